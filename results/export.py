"""Open data of published results: the JSON document, the CSV table and the anonymised
ballots of one pot as a pabulib file that anyone can recount (`shaar tally`, pabutools)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from contests.models import Contest, Phase, Round, RoundPhase
from results.counting import pabulib_rule, vote_rows
from results.queries import PotView, RunView
from results.services import current_contents
from voting.models import PotVoting
from voting.tally.model import BallotKind
from voting.tally.pabulib import PabulibFile, dumps
from voting.tally.rules import RuleSpec
from voting.tally.tiebreak import TieBreak

PUBLIC_KEY_URL = "/results/public-key.pem"


def results_bytes(round_: Round, view: RunView, head: str) -> bytes:
    """The published JSON document exactly as served and signed: the same publication and
    ballot log always give the same bytes (dict order is fixed, no time of request)."""
    return json.dumps(results_json(round_, view, head), ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def results_json(round_: Round, view: RunView, head: str) -> dict[str, Any]:
    assert view.publication is not None
    run = view.run
    return {
        "round": {"id": round_.id, "title": round_.title},
        "signature": f"/api/rounds/{round_.id}/results.sig",
        "public_key": PUBLIC_KEY_URL,
        "published_at": view.publication.published_at.isoformat(),
        "statement": view.publication.statement,
        "count": {"engine": run.engine_version, "rule": run.rule_text,
                  "rule_spec": json.loads(run.rule_spec), "tie_break": run.tie_break,
                  "seed": run.seed, "counted_at": run.counted_at.isoformat(),
                  "ballot_log": {"entries": run.log_count, "head": run.log_head},
                  "ballot_log_head_now": head},
        "pots": [_pot_json(round_, pot) for pot in view.pots],
    }


def pabulib_url(round_id: int | None, pot_id: int | None) -> str:
    return f"/rounds/{round_id}/results/pots/{pot_id}.pb"


def _pot_json(round_: Round, pot: PotView) -> dict[str, Any]:
    ballots = pabulib_url(round_.id, pot.pot.id)
    return {
        "pot_id": pot.pot.id, "district_id": pot.pot.district_id, "budget": pot.result.budget,
        "voters": pot.result.voters, "ballots": ballots, "ballots_signature": ballots + ".sig",
        "computed": json.loads(pot.result.selected),
        "winners": [r.idea.id for r in pot.winners],
        "changes": [{"idea_id": r.idea.id, "action": r.change.action,
                     "justification": r.change.justification}
                    for r in pot.changes if r.change is not None],
        "projects": [{"idea_id": r.idea.id, "reference": r.idea.reference, "title": r.idea.title,
                      "cost": r.cost, "votes": r.votes, "score": r.score,
                      "selected_by_rule": r.computed, "funded": r.funded} for r in pot.rows],
        "other_rule": {"rule": pot.result.other_rule, "selected": pot.other_ids},
        "steps": pot.steps,
    }


CSV_COLUMNS = ("pot_id", "district_id", "idea_id", "reference", "title", "cost", "votes",
               "score", "selected_by_rule", "funded", "change", "justification")


def results_csv(view: RunView) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for pot in view.pots:
        for r in pot.rows:
            writer.writerow([pot.pot.id, pot.pot.district_id or "", r.idea.id, r.idea.reference,
                             _cell(r.idea.title), r.cost, r.votes, r.score, int(r.computed),
                             int(r.funded), r.change.action if r.change else "",
                             _cell(r.change.justification) if r.change else ""])
    return out.getvalue()


def _cell(text: str) -> str:
    """Keep spreadsheets from reading a title as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _day(moment: datetime | None) -> str:
    return moment.strftime("%d.%m.%Y") if moment else ""


def pot_pabulib(s: Session, round_: Round, pot: PotView, spec: RuleSpec) -> str:
    """The pot's anonymised current ballots as a pabulib file, META naming the rule used."""
    setup = s.exec(select(PotVoting).where(PotVoting.pot_id == pot.pot.id)).first()
    assert setup is not None
    kind = BallotKind(setup.kind)
    contest = s.get(Contest, round_.contest_id)
    voting = s.exec(select(RoundPhase).where(RoundPhase.round_id == round_.id,
                                             RoundPhase.phase == Phase.VOTING)).first()
    rows = vote_rows(kind, current_contents(s, round_.id or 0, pot.pot.id or 0))
    projects = sorted(pot.rows, key=lambda r: r.idea.id or 0)
    meta = {
        "description": f"{contest.title if contest else ''} / {round_.title}",
        "country": "Kyrgyzstan", "unit": "Bishkek",
        "instance": str(contest.year if contest else ""),
        "district": pot.district.name_ru if pot.district else "city-wide",
        "num_projects": str(len(projects)), "num_votes": str(len(rows)),
        "budget": str(pot.result.budget),
        "vote_type": "approval" if kind.is_approval else str(kind),
        "rule": pabulib_rule(spec),
        "date_begin": _day(voting.starts_at if voting else None),
        "date_end": _day(voting.ends_at if voting else None),
        "language": "ru", "currency": "KGS",
        "tie_break": str(spec.tie_break),
    }
    if spec.threshold is not None:
        meta["min_project_score_threshold"] = str(spec.threshold)
    if kind == BallotKind.KNAPSACK:
        meta["max_sum_cost"] = str(pot.result.budget)
    if kind == BallotKind.ORDINAL:
        meta["max_length"] = str(setup.max_choices or len(projects))
    elif setup.max_choices:
        meta["max_length"] = str(setup.max_choices)
    if kind == BallotKind.CUMULATIVE:
        meta["max_sum_points"] = str(setup.points_total)
        meta["max_points"] = str(setup.max_points_per_project or setup.points_total)
    score = "votes" if kind.is_approval else "score"
    project_rows = [[str(r.idea.id), str(r.cost), str(r.votes if kind.is_approval else r.score),
                     r.idea.title, r.idea.reference, "1" if r.computed else "0"]
                    for r in projects]
    vote_columns = ["voter_id", "vote", "points"] if kind == BallotKind.CUMULATIVE else [
        "voter_id", "vote"]
    pb = PabulibFile(meta=meta, project_columns=["project_id", "cost", score, "name",
                                                 "public_id", "selected"],
                     project_rows=project_rows, vote_columns=vote_columns, vote_rows=rows,
                     ballot_counts={}, found_lines=None)
    return dumps(pb)


def spec_of(run_spec: str) -> RuleSpec:
    data = json.loads(run_spec)
    return RuleSpec(rule=data["rule"], threshold=data.get("threshold"),
                    skip=data.get("skip", True), completion=data.get("completion", "none"),
                    exhaustive_stop=data.get("exhaustive_stop", True),
                    increment=data.get("increment", 1),
                    integral_start=data.get("integral_start", True),
                    comparison=data.get("comparison", "none"),
                    tie_break=TieBreak.parse(data["tie_break"]))
