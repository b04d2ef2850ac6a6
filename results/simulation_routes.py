"""Rule simulation for admins: upload a pabulib file, or pick a round whose voting has closed,
and see which projects every counting rule would fund. Admins only; each run is audited.

A simulation is a computation, not a change: the POST answers with the page itself instead of
redirecting, since there is nothing stored to redirect to (only the audit entry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import anyio.to_thread
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import audit
from core.forms import Form
from core.i18n import format_number, format_som, get_locale, ngettext
from core.i18n import gettext as _
from core.models import Role
from core.templating import render
from core.web import as_int, db, field_str, read_form, require_role
from results import simulation
from results.counting import spec_json
from results.explain import percent, rule_label
from results.simulation import RuleRun, Simulation, SimulationRefused

TEMPLATE = "simulation/page.html"


def refusal_text(exc: SimulationRefused) -> str:
    if exc.code == "too_large":
        return _("The file is larger than %(mb)s MB.", mb=simulation.MAX_FILE_BYTES // 2**20)
    if exc.code == "not_utf8":
        return _("The file is not UTF-8 text (%(where)s). Save it as UTF-8 and upload it "
                 "again.", where=exc.detail)
    if exc.code == "empty":
        return _("The file is empty.")
    if exc.code == "unreadable":
        return _("This is not a valid pabulib file: %(reason)s", reason=exc.detail)
    if exc.code == "voting_open":
        return _("Voting in this round is still open. Vote counts stay secret until voting "
                 "closes, so it cannot be simulated yet.")
    if exc.code == "no_voting":
        return _("This round has no voting.")
    return _("Choose a round whose voting has closed.")


def rule_names() -> dict[str, tuple[str, str]]:
    """Short column name and a plain-language explanation of each standard rule."""
    return {
        "greedy": (_("Greedy"), _(
            "Projects are funded in order of votes; one that no longer fits in the money "
            "left is skipped and the next is tried.")),
        "greedy_no_skip": (_("Greedy, no skipping"), _(
            "Projects are funded in order of votes until the first one that does not fit; "
            "counting stops there.")),
        "mes": (_("Equal shares"), _(
            "Every voter gets an equal share of the budget; a project is funded when its "
            "supporters can pay for it together, cheapest per supporter first. Part of the "
            "budget may stay unused.")),
        "mes_greedy": (_("Equal shares, then greedy"), _(
            "Equal shares, then what is left goes to projects in order of votes.")),
        "mes_add1": (_("Equal shares with raised shares"), _(
            "Equal shares counted again with each voter's share raised step by step, keeping "
            "the last outcome that fits in the budget (\"add1\").")),
        "mes_add1_greedy": (_("Raised shares, then greedy"), _(
            "Equal shares with raised shares, then what is left goes to projects in order of "
            "votes.")),
    }


def kind_label(kind: str) -> str:
    """The ballot type as the voting admin page names it (pabulib's choose-1 is approval)."""
    return {"approval": _("Choose up to k projects"), "knapsack": _("Fill the budget"),
            "cumulative": _("Spread points"), "ordinal": _("Rank up to k projects"),
            "scoring": _("Give each project a score")}.get(kind, kind)


def official_text(kind: str, spec_source: str) -> str:
    if kind == "file":
        return _("The rule named in the file (%(rule)s).", rule=spec_source)
    return rule_label(spec_source)


def money_formatter(currency: str | None) -> Callable[[Any], str]:
    """Round pots are in som; a file's amounts are shown in its own currency, if it says."""

    def money(amount: int | Fraction) -> str:
        if currency is None:
            return format_som(round(amount))
        value = int(amount) if Fraction(amount).denominator == 1 else float(amount)
        number = format_number(value)
        return f"{number} {currency}" if currency else number

    return money


def budget_share(run: RuleRun, sim: Simulation) -> str:
    return percent(round(run.total_cost), round(sim.budget))


@dataclass(frozen=True)
class Column:
    run: RuleRun
    name: str
    explanation: str


@dataclass(frozen=True)
class SimulationView:
    """A simulation with its columns named and its differences told in words."""

    sim: Simulation
    columns: list[Column]
    summary: list[str]
    official_name: str


def view_of(sim: Simulation, official: str, official_name: str, note: str = ""
            ) -> SimulationView:
    """`official` explains the file's or round's own rule when it has a column of its own;
    `note` is added to the standard rule that is the official one."""
    names = rule_names()
    columns = []
    for run in sim.runs:
        if run.key == "official":
            columns.append(Column(run, official_name, official))
            continue
        name, explanation = names[run.key]
        if run.spec.completion in ("add1", "add1u") and run.spec.increment != 1:
            explanation += " " + _("Each step raises every share by %(step)s.",
                                   step=format_number(int(run.spec.increment)))
        if run.official and note:
            explanation += " " + note
        columns.append(Column(run, name, explanation))
    return SimulationView(sim, columns, summary(sim, columns), official_name)


def summary(sim: Simulation, columns: list[Column]) -> list[str]:
    """Plain sentences: what every rule funds, then how each rule differs from the
    reference rule (the official one, else greedy)."""
    name = {c.run.key: c.name for c in columns}
    common = sim.everywhere
    names = ", ".join(x.name for x in common)
    # One common project reads "every rule funds this one", not "each rule funds 1 project".
    out = [(_("Every rule funds this project: %(names)s.", names=names) if len(common) == 1
            else ngettext("Every rule funds %(num)s project: %(names)s.",
                          "Every rule funds these %(num)s projects: %(names)s.", len(common),
                          names=names)) if common
           else _("No project is funded under every rule.")]
    for diff in sim.differences:
        words = {"rule": name[diff.run.key], "reference": name[diff.reference.key]}
        if not diff.added and not diff.dropped:
            out.append(_("%(rule)s funds the same projects as %(reference)s.", **words))
            continue
        parts = []
        if diff.added:
            parts.append(ngettext(
                "%(rule)s funds %(num)s project that %(reference)s does not: %(names)s.",
                "%(rule)s funds %(num)s projects that %(reference)s does not: %(names)s.",
                len(diff.added), names=", ".join(x.name for x in diff.added), **words))
        if diff.dropped:
            parts.append(ngettext(
                "%(rule)s does not fund %(num)s project that %(reference)s funds: %(names)s.",
                "%(rule)s does not fund %(num)s projects that %(reference)s funds: "
                "%(names)s.", len(diff.dropped),
                names=", ".join(x.name for x in diff.dropped), **words))
        out.append(" ".join(parts))
    return out


def page_context(request: Request, form: Form | None = None, **extra: Any) -> dict[str, Any]:
    with db(request) as s:
        rounds = simulation.closed_rounds(s, request.state.now)
    return {"form": form or Form(), "rounds": rounds, "budget_share": budget_share,
            "kind_label": kind_label,
            "file_result": None, "round_result": None,
            "max_mb": simulation.MAX_FILE_BYTES // 2**20, **extra}


async def simulate_page(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    if request.method == "GET":
        return render(request, TEMPLATE, page_context(request))
    # The uploaded file's spool is closed by the middleware, also when the CSRF check refuses.
    data = await read_form(request)
    if field_str(data, "source", 10) == "round":
        return await _simulate_round(request, data, admin.id)
    return await _simulate_file(request, data, admin.id)


def _refused(request: Request, field: str, message: str, values: dict[str, str]) -> Response:
    form = Form(values=values, errors={field: message})
    return render(request, TEMPLATE, page_context(request, form), status_code=422)


async def _simulate_file(request: Request, data: FormData, admin_id: int) -> Response:
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _refused(request, "file", _("Choose a pabulib file (.pb)."), {})
    raw = await upload.read(simulation.MAX_FILE_BYTES + 1)
    try:
        result = await anyio.to_thread.run_sync(simulation.simulate_file, raw)
    except SimulationRefused as exc:
        return _refused(request, "file", refusal_text(exc), {})
    sim = result.simulation
    name = upload.filename[:200]
    with db(request, write=True) as s:
        audit.record(s, admin_id, "results.simulate", "pabulib", result.sha256[:16],
                     request.state.now, file=name, sha256=result.sha256, bytes=result.size,
                     voters=sim.voters, projects=len(sim.lines))
    meta = result.meta
    currency = meta.get("currency", "").strip()[:10]
    official = official_text("file", meta.get("rule", "")) if result.rule_known else ""
    view = view_of(sim, official, _("The file's rule"), official)
    return render(request, TEMPLATE, page_context(
        request, file_result={"name": name, "meta": meta, "view": view,
                              "rule_known": result.rule_known,
                              "money": money_formatter(currency)}))


async def _simulate_round(request: Request, data: FormData, admin_id: int) -> Response:
    raw = field_str(data, "round", 20)
    round_id = as_int(raw)
    values = {"round": raw}
    if round_id is None:
        return _refused(request, "round", _("Choose a round whose voting has closed."), values)
    now = request.state.now
    with db(request) as s:
        try:
            source = simulation.round_source(s, round_id, now, get_locale())
        except SimulationRefused as exc:
            return _refused(request, "round", refusal_text(exc), values)
        label = next((f"{c.title} · {r.title}" for r, c in simulation.closed_rounds(s, now)
                      if r.id == round_id), "")
    pots = await anyio.to_thread.run_sync(simulation.simulate_round, source)
    with db(request, write=True) as s:
        audit.record(s, admin_id, "results.simulate", "round", round_id, now,
                     pots=[p.pot_id for p, _sim in pots],
                     voters=sum(sim.voters for _pot, sim in pots))
    official = official_text("round", spec_json(source.official))
    views = [(pot, view_of(sim, official, _("This round's rule"))) for pot, sim in pots]
    return render(request, TEMPLATE, page_context(
        request, Form(values=values), round_result={"id": round_id, "label": label,
                                                    "pots": views,
                                                    "money": money_formatter(None)}))


routes = [
    Route("/admin/simulate", simulate_page, methods=["GET", "POST"], name="page"),
]
