"""The open-data catalogue: every dataset the site publishes, with its licence, publisher,
update date and downloads; the same as DCAT-AP JSON-LD for CKAN-based portals; and one ZIP of
all of it with a README of every column, versioned by its contents and signed like the
results (a detached Ed25519 signature of the exact bytes, results/signing.py)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
from sqlmodel import Session, col, func, select
from starlette.applications import Starlette

from contests.models import Contest, Phase, Round, RoundPhase
from core import i18n
from core.i18n import gettext as _
from core.models import utcnow
from core.settings import LOCALES, Settings
from ideas.models import PUBLIC_STATUSES, Idea
from moderation.models import Decision, DecisionKind
from results import queries as results_queries
from results.export import CSV_COLUMNS, PUBLIC_KEY_URL
from tracking.models import STATUSES as PROJECT_STATUSES
from tracking.models import ProjectTracking
from voting import queries as voting_queries

ZIP_URL = "/open-data/shaar-open-data.zip"
CATALOG_URL = "/open-data/catalog.jsonld"
LICENSE_NAMES = {
    "https://creativecommons.org/licenses/by/4.0/": "CC BY 4.0",
    "https://creativecommons.org/licenses/by-sa/4.0/": "CC BY-SA 4.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0 1.0",
}


def license_name(url: str) -> str:
    return LICENSE_NAMES.get(url, url)


@dataclass
class Distribution:
    """One download of a dataset. `kind` names its columns in COLUMNS; `in_zip` is the file's
    name inside the ZIP of all open data (None: not copied, e.g. a signature)."""

    title: str
    url: str
    media_type: str
    kind: str
    in_zip: str | None = None

    @property
    def format(self) -> str:
        return {"application/json": "JSON", "text/csv": "CSV",
                "text/plain": "pabulib", "application/octet-stream": "Ed25519 signature",
                "application/zip": "ZIP", "application/ld+json": "JSON-LD"}[self.media_type]


@dataclass
class Dataset:
    key: str
    title: str
    description: str
    updated: date
    distributions: list[Distribution] = field(default_factory=list)


def _day(moment: datetime | None, now: datetime) -> date:
    return (moment or now).date()


def catalogue(s: Session, now: datetime | None = None) -> list[Dataset]:
    """Every public dataset, titled in the current language. Only what the pages show:
    results and ballots after publication, public ideas, counts of decisions."""
    from surveys.opendata import datasets as survey_datasets

    now = now or utcnow()
    locale = i18n.get_locale()
    out: list[Dataset] = []
    newest_round = s.exec(select(func.max(Contest.created_at))).one()
    out.append(Dataset(
        "contests", _("Contests, rounds and their phases"),
        _("Every contest and round with the dates of its phases and whether its results are "
          "published."), _day(newest_round, now),
        [Distribution(_("Contests (JSON)"), "/api/v1/contests", "application/json",
                      "contests", "contests.json")]))
    newest_idea = s.exec(select(func.max(Idea.updated_at)).where(
        col(Idea.status).in_(PUBLIC_STATUSES), col(Idea.hidden_at).is_(None))).one()
    out.append(Dataset(
        "ideas", _("Published ideas"),
        _("Every idea residents proposed that moderators published, with its status, "
          "district, category, estimated cost and number of supports."),
        _day(newest_idea, now),
        [Distribution(_("Ideas (JSON, paged)"), "/api/v1/ideas", "application/json",
                      "ideas", "ideas.json")]))
    rounds = s.exec(select(Round).order_by(col(Round.id))).all()
    for round_ in rounds:
        rid = round_.id or 0
        view = results_queries.published_view(s, rid)
        if view is not None and view.publication is not None:
            published = view.publication.published_at
            out.append(Dataset(
                f"results-round-{rid}", _("Results: %(round)s", round=round_.title),
                _("The published count: the rule, the tie-break, every pot's projects with "
                  "their votes, the winners and the jury's changes, signed by the city."),
                _day(published, now),
                [Distribution(_("Results (JSON)"), f"/api/v1/rounds/{rid}/results",
                              "application/json", "results-json", "results.json"),
                 Distribution(_("Results (CSV)"), f"/rounds/{rid}/results.csv", "text/csv",
                              "results-csv", "results.csv"),
                 Distribution(_("Signature of the JSON"), f"/api/rounds/{rid}/results.sig",
                              "application/octet-stream", "signature")]))
            for pot in view.pots:
                pid = pot.pot.id or 0
                where = pot.district.name(locale) if pot.district else _("city-wide")
                url = f"/rounds/{rid}/results/pots/{pid}.pb"
                out.append(Dataset(
                    f"ballots-round-{rid}-pot-{pid}",
                    _("Ballots: %(round)s, %(pot)s", round=round_.title, pot=where),
                    _("The anonymised ballots of one pot as a pabulib file, which anyone can "
                      "count again (shaar tally, pabutools)."), _day(published, now),
                    [Distribution(_("Ballots (pabulib)"), url, "text/plain", "pabulib",
                                  f"pot-{pid}.pb"),
                     Distribution(_("Signature of the ballots"), url + ".sig",
                                  "application/octet-stream", "signature")]))
        if voting_queries.round_voting(s, rid) is not None:
            voting = s.exec(select(RoundPhase).where(RoundPhase.round_id == rid,
                                                     RoundPhase.phase == Phase.VOTING)).first()
            if voting is not None and voting.starts_at <= now:
                out.append(Dataset(
                    f"ballot-log-round-{rid}", _("Ballot log: %(round)s", round=round_.title),
                    _("The public hash chain of every ballot cast: no person, no ballot "
                      "content, the hour only; after voting, which entries count."),
                    _day(min(now, voting.ends_at), now),
                    [Distribution(_("Ballot log (JSON)"), f"/rounds/{rid}/log.json",
                                  "application/json", "ballot-log", "ballot-log.json")]))
    newest_decision = s.exec(select(func.max(Decision.at))).one()
    out.append(Dataset(
        "moderation", _("Moderation decisions counted"),
        _("How many ideas and comments moderators published, rejected or hid, per round "
          "and reason. Numbers only, no people."), _day(newest_decision, now),
        [Distribution(_("Decisions (JSON)"), "/api/v1/transparency", "application/json",
                      "transparency", "transparency.json")]))
    newest_tracking = s.exec(select(func.max(ProjectTracking.updated_at))).one()
    out.append(Dataset(
        "projects", _("Implementation of the winning projects"),
        _("Every funded project with its status and progress."), _day(newest_tracking, now),
        [Distribution(_("Projects (JSON)"), "/api/v1/projects", "application/json",
                      "projects", "projects.json")]))
    for number, d in enumerate(survey_datasets(s, base_url="", now=now)):
        key = "survey-" + d["url"]["csv"].removeprefix("/surveys/").removesuffix(
            "/responses.csv").replace("/waves/", "-wave-")
        titles = d.get("titles") or {}
        title = titles.get(locale) or d["title"]
        out.append(Dataset(
            key or f"survey-{number}", _("Survey: %(title)s", title=title),
            _("Anonymised answers of one survey wave (rows shuffled, small groups removed, no "
              "free text) with a codebook of every column."),
            date.fromisoformat(d["updated"]),
            [Distribution(_("Answers (CSV)"), d["url"]["csv"], "text/csv", "survey-csv",
                          "responses.csv"),
             Distribution(_("Answers (JSON)"), d["url"]["json"], "application/json",
                          "survey-json", "responses.json"),
             Distribution(_("Codebook (JSON)"), d["url"]["codebook"], "application/json",
                          "survey-codebook", "codebook.json")]))
    return out


@contextmanager
def in_locale(locale: str) -> Iterator[None]:
    before = i18n.get_locale()
    tz = i18n._current_tz.get()
    i18n.set_locale(locale, tz)
    try:
        yield
    finally:
        i18n.set_locale(before, tz)


# --- DCAT-AP ---------------------------------------------------------------------------------

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}


def _texts(by_locale: dict[str, str]) -> list[dict[str, str]]:
    return [{"@value": text, "@language": locale} for locale, text in by_locale.items()]


def dcat_document(s: Session, settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """The catalogue as DCAT-AP in JSON-LD: a dcat:Catalog of dcat:Dataset, each with its
    dcat:Distribution (downloadURL, format, mediaType, licence), titles in ru, ky and en."""
    now = now or utcnow()
    base = settings.base_url
    by_locale: dict[str, list[Dataset]] = {}
    for locale in LOCALES:
        with in_locale(locale):
            by_locale[locale] = catalogue(s, now)
    first = by_locale[LOCALES[0]]
    publisher = {"@id": f"{base}/#publisher", "@type": "foaf:Agent",
                 "foaf:name": settings.city_name}
    licence = {"@id": settings.open_data_license, "@type": "dct:LicenseDocument"}
    datasets = []
    for index, d in enumerate(first):
        versions = [by_locale[loc][index] for loc in LOCALES]
        distributions = []
        for j, dist in enumerate(d.distributions):
            distributions.append({
                "@id": f"{base}/open-data#{d.key}-{j}", "@type": "dcat:Distribution",
                "dct:title": _texts({loc: v.distributions[j].title
                                     for loc, v in zip(LOCALES, versions, strict=True)}),
                "dcat:accessURL": {"@id": base + dist.url},
                "dcat:downloadURL": {"@id": base + dist.url},
                "dcat:mediaType": {"@id": "https://www.iana.org/assignments/media-types/"
                                   + dist.media_type},
                "dct:format": dist.format,
                "dct:license": licence,
            })
        datasets.append({
            "@id": f"{base}/open-data#{d.key}", "@type": "dcat:Dataset",
            "dct:identifier": d.key,
            "dct:title": _texts({loc: v.title for loc, v in zip(LOCALES, versions,
                                                                strict=True)}),
            "dct:description": _texts({loc: v.description for loc, v in zip(
                LOCALES, versions, strict=True)}),
            "dct:modified": {"@value": d.updated.isoformat(), "@type": "xsd:date"},
            "dct:publisher": publisher, "dct:license": licence,
            "dcat:landingPage": {"@id": f"{base}/open-data#{d.key}"},
            "dcat:distribution": distributions,
        })
    return {
        "@context": CONTEXT, "@id": f"{base}/open-data", "@type": "dcat:Catalog",
        "dct:title": _texts({"ru": "Открытые данные Shaar", "ky": "Shaar ачык маалыматтары",
                             "en": "Shaar open data"}),
        "dct:description": _texts({loc: f"{settings.city_name}: Shaar" for loc in LOCALES}),
        "dct:publisher": publisher, "dct:license": licence,
        "dct:language": [{"@id": "http://publications.europa.eu/resource/authority/language/"
                                 + code} for code in ("RUS", "KIR", "ENG")],
        "dct:modified": {"@value": max((d.updated for d in first), default=now.date())
                         .isoformat(), "@type": "xsd:date"},
        "foaf:homepage": {"@id": f"{base}/open-data"},
        "dcat:dataset": datasets,
    }


# --- the ZIP of everything ---------------------------------------------------------------------

#: The columns (or top-level fields) of every kind of file, for the README.
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "contests": [
        ("items[].id, slug, title, year", "the contest"),
        ("items[].rounds[].id, number, title", "a round of the contest"),
        ("items[].rounds[].results_published", "true once the jury published the results"),
        ("items[].rounds[].phases[].phase, starts_at, ends_at",
         "a phase (submission, moderation, jury_review, voting, counting, results, "
         "implementation) and its times (UTC)"),
    ],
    "ideas": [
        ("reference", "the idea's public reference (YEAR-NNNNN), its page is /ideas/REFERENCE"),
        ("round_id", "the round it was proposed in"),
        ("title", "its title"), ("summary", "its short description"),
        ("status", ", ".join(PUBLIC_STATUSES)),
        ("district_id", "the district it is for (empty: city-wide)"),
        ("category_id", "its category"),
        ("estimated_cost", "the estimated cost in som (KGS)"),
        ("supports", "how many residents supported it"),
        ("published_at", "when moderators published it (UTC)"),
        ("updated_at", "when it last changed (UTC)"),
    ],
    "results-json": [
        ("round", "the round's id and title"),
        ("signature, public_key", "where the detached signature and the city's key are"),
        ("published_at, statement", "when the jury published and what it said"),
        ("count", "the engine, the rule in words and as parameters, the tie-break, the seed, "
                  "the ballot log entries and head it counted"),
        ("pots[]", "per pot: budget, voters, projects (cost, votes, score, selected by the "
                   "rule, funded), winners, the jury's changes, the other rule's outcome, "
                   "every step of the count"),
    ],
    "results-csv": [(c, d) for c, d in zip(CSV_COLUMNS, (
        "the pot (one budget of the round)", "the pot's district (empty: city-wide)",
        "the idea", "its public reference", "its title", "its cost in som",
        "approval votes", "its score under the rule", "1 if the rule selected it",
        "1 if it is funded after the jury's changes", "add or remove when the jury changed it",
        "the jury's public reason for the change"), strict=True)],
    "pabulib": [
        ("META", "description, country, unit, instance, district, num_projects, num_votes, "
                 "budget, vote_type, rule, dates, language, currency, tie_break"),
        ("PROJECTS", "project_id, cost, votes or score, name, public_id, selected"),
        ("VOTES", "voter_id (a number in the file only), vote (the project ids), points "
                  "for cumulative ballots"),
    ],
    "ballot-log": [
        ("round, format, count, head, closed, counted", "the log as a whole"),
        ("entries[].seq", "the entry's number"),
        ("entries[].hour", "the hour the ballot was cast (UTC), no finer"),
        ("entries[].commitment", "a hash that commits to the ballot; a receipt checks it"),
        ("entries[].prev_hash, entry_hash", "the hash chain: each entry hashes the previous"),
        ("entries[].supersedes", "null while voting; a later ballot replaces an earlier one"),
        ("entries[].counts", "after voting: whether the entry's ballot counts"),
    ],
    "transparency": [
        ("round_id", "the round (empty: decisions outside a round)"),
        ("kind", "the decision: " + ", ".join(DecisionKind)),
        ("reason_id", "the published rejection reason, if any"),
        ("count", "how many such decisions"),
    ],
    "projects": [
        ("reference, round_id, title", "the winning idea"),
        ("cost", "its funded cost in som"),
        ("status", ", ".join(PROJECT_STATUSES)),
        ("progress", "per cent done"),
    ],
    "survey-csv": [
        ("district, age_band, gender, channel", "who answered, as far as they said"),
        ("QUESTION or QUESTION.OPTION", "one column per answer; see codebook.json for every "
                                        "column, its question and its values"),
    ],
    "survey-json": [("columns, rows", "the same table as the CSV")],
    "survey-codebook": [("questions[]", "every question: id, type, label, values, columns")],
}


def readme(datasets: list[Dataset], settings: Settings, version: str, stamp: date) -> str:
    lines = [
        "# Shaar open data", "",
        f"Publisher: {settings.city_name}",
        f"Licence: {license_name(settings.open_data_license)} ({settings.open_data_license})",
        f"Version: {version} (the first 16 hex digits of the SHA-256 of MANIFEST.json)",
        f"Data as of: {stamp.isoformat()} (the newest update of any dataset)", "",
        "MANIFEST.json lists every file with its SHA-256. The whole ZIP is signed by the "
        "city (Ed25519, a detached 64-byte signature at "
        f"{settings.base_url}{ZIP_URL}.sig); the public key is at "
        f"{settings.base_url}{PUBLIC_KEY_URL}. Check it with:", "",
        "    openssl pkeyutl -verify -pubin -inkey city.pub -rawin \\",
        "      -in shaar-open-data.zip -sigfile shaar-open-data.zip.sig", "",
        "Files fetched while data changes (an open vote, new ideas) may differ from the ZIP "
        "of a minute later: download the ZIP and its signature together.", "",
    ]
    for d in datasets:
        files = [x for x in d.distributions if x.in_zip]
        if not files:
            continue
        lines += [f"## {d.key}/: {d.title}", "", d.description, "",
                  f"Updated: {d.updated.isoformat()}", ""]
        for x in files:
            lines += [f"### {d.key}/{x.in_zip} ({x.format}, from {x.url})", ""]
            lines += [f"- `{name}`: {text}" for name, text in COLUMNS[x.kind]]
            lines.append("")
    return "\n".join(lines)


async def _fetch(client: httpx.AsyncClient, url: str) -> bytes | None:
    answer = await client.get(url)
    return answer.content if answer.status_code == 200 else None


async def _all_ideas(client: httpx.AsyncClient) -> bytes:
    items: list[Any] = []
    url: str | None = "/api/v1/ideas?limit=100"
    while url is not None:
        page = (await client.get(url)).json()
        items += page["items"]
        url = (f"/api/v1/ideas?limit=100&cursor={page['next_cursor']}"
               if page["next_cursor"] else None)
    return json.dumps({"items": items}, ensure_ascii=False, separators=(",", ":")).encode()


async def build_zip(app: Starlette, datasets: list[Dataset], settings: Settings,
                    built: datetime) -> bytes:
    """Every file exactly as its download serves it (fetched from the app itself), the
    README and the MANIFEST, in a fixed order with fixed times: the same data gives the same
    bytes, so a signature made later signs the same file."""
    files: dict[str, bytes] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://opendata.internal",
                                 headers={"Accept-Language": "en"}) as client:
        for d in datasets:
            for x in d.distributions:
                if x.in_zip is None:
                    continue
                body = (await _all_ideas(client) if x.kind == "ideas"
                        else await _fetch(client, x.url))
                if body is not None:
                    files[f"{d.key}/{x.in_zip}"] = body
    manifest = json.dumps({
        "publisher": settings.city_name, "license": settings.open_data_license,
        "files": {name: hashlib.sha256(body).hexdigest() for name, body in sorted(files.items())},
    }, ensure_ascii=False, indent=1, sort_keys=True).encode()
    version = hashlib.sha256(manifest).hexdigest()[:16]
    stamp = max((d.updated for d in datasets), default=built.date())
    when = (stamp.year, stamp.month, stamp.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = {"README.md": readme(datasets, settings, version, stamp).encode(),
                   "MANIFEST.json": manifest, **dict(sorted(files.items()))}
        for name, body in entries.items():
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, body)
    return out.getvalue()
