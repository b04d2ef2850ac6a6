"""Readable, translated explanations of the published count for one idea ("why did my
project (not) win?"), and the helper the idea page calls to show it."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_percent
from markupsafe import Markup
from starlette.requests import Request

from core.i18n import format_number, format_som, get_locale
from core.i18n import gettext as _
from ideas.models import Idea
from results.queries import IdeaOutcome, idea_outcome


def percent(part: int, whole: int) -> str:
    """`part` of `whole` as a percentage in the reader's locale ('—' for nothing of nothing)."""
    if not whole:
        return "—"
    share = part / whole
    pattern = "#,##0.0%" if share == 0 or share >= 0.001 else "#,##0.00##%"
    return format_percent(share, pattern, locale=Locale.parse(get_locale()))


def rule_label(spec_json: str, other: bool = False) -> str:
    """The rule of a stored count (or, with `other`, the rule it is compared with), in the
    reader's language; the engine's exact description stays in the open data."""
    spec = json.loads(spec_json)
    greedy = (spec.get("rule") == "greedy") != other
    if greedy:
        return _("Greedy: projects are funded in order of votes, skipping those that no "
                 "longer fit in the budget")
    if other:
        return _("Method of equal shares, completed in order of votes")
    completion = spec.get("completion", "none")
    if completion in ("add1", "add1u"):
        return _("Method of equal shares, with the shares raised step by step until the "
                 "budget is used")
    if completion == "utilitarian":
        return _("Method of equal shares, completed in order of votes")
    return _("Method of equal shares")


def tie_break_label(chain: str) -> str:
    """A stored tie-break chain ("min-cost,max-votes,lot:shaar") as a sentence in the
    reader's language; the chain itself stays in the open data."""
    phrases = []
    for criterion in (c.strip() for c in chain.split(",") if c.strip()):
        if criterion == "min-cost":
            phrases.append(_("the cheaper project first"))
        elif criterion == "max-cost":
            phrases.append(_("the more expensive project first"))
        elif criterion == "max-votes":
            phrases.append(_("the project with more votes first"))
        elif criterion == "min-votes":
            phrases.append(_("the project with fewer votes first"))
        elif criterion == "max-score":
            phrases.append(_("the project with the higher score first"))
        elif criterion == "id":
            phrases.append(_("the project proposed earlier first"))
        elif criterion.startswith("lot:"):
            phrases.append(_("then a public lot drawn with the seed “%(seed)s”",
                             seed=criterion[4:]))
    if not phrases:
        return ""
    return _("When projects tie, the order is: %(steps)s.",
             steps=format_list(phrases, style="standard", locale=Locale.parse(get_locale())))


def _amount(value: Any) -> str:
    """Steps store exact amounts as ints or 'p/q' strings; show whole som."""
    if isinstance(value, str) and "/" in value:
        return format_som(int(Fraction(value)))
    return format_som(int(value))


def step_text(outcome: IdeaOutcome) -> str:
    """One sentence on what the count did with the idea."""
    step, row = outcome.step, outcome.row
    if step is None:
        if row.computed:
            return _("It was funded by the rule.")
        return _("It was not funded: when the count ended, the residents who voted for it "
                 "no longer had enough of their equal shares left to pay for it together, "
                 "or it did not fit in what was left of the budget.")
    if step.get("kind") == "greedy":
        outcome_name = step.get("outcome")
        values = {"votes": format_number(int(step.get("score", 0))),
                  "cost": _amount(step.get("cost", 0)),
                  "left": _amount(step.get("remaining", 0))}
        if outcome_name == "selected":
            return _("Projects are funded in order of votes. With %(votes)s votes it came in "
                     "its turn and fitted: it cost %(cost)s and %(left)s were left after it.",
                     **values)
        if outcome_name == "skipped":
            return _("Projects are funded in order of votes. When its turn came with %(votes)s "
                     "votes, only %(left)s were left, less than its cost of %(cost)s, so it "
                     "was skipped.", **values)
        if outcome_name == "below-threshold":
            return _("With %(votes)s votes it did not reach the minimum number of votes.",
                     **values)
        if outcome_name == "stopped":
            return _("Counting stopped at the first project that did not fit, before its turn.")
        return _("It received no votes.")
    if step.get("kind") == "mes":
        return _("Its %(votes)s supporters each had an equal share of the budget; together "
                 "they could pay its cost of %(cost)s, so it was funded.",
                 votes=format_number(int(step.get("votes", 0))),
                 cost=_amount(step.get("cost", 0)))
    return _("It was funded by the rule.") if row.computed else _("It was not funded.")


def idea_result(request: Request, idea: Idea) -> Markup:
    """The idea page's results section: '' before publication or when the idea was not on
    the ballot. Called from templates/ideas/detail.html."""
    database = request.app.state.database
    with database.session() as s:
        outcome = idea_outcome(s, idea)
    if outcome is None:
        return Markup("")
    template = request.app.state.templates.get_template("results/_idea_outcome.html")
    html = template.render(outcome=outcome, explanation=step_text(outcome),
                           round_id=idea.round_id, percent=percent,
                           rule=rule_label(outcome.rule_spec))
    return Markup(html)  # noqa: S704 - an autoescaped template rendered it
