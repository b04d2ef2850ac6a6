"""Validation of the voting admin and clerk forms: field errors, then cleaned values."""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.datastructures import FormData

from contests.forms import _whole
from core.forms import Form
from core.i18n import gettext as _
from core.web import field_str
from voting.ballots import KINDS, Marks
from voting.models import PotVoting, RoundVoting
from voting.tally.rules import COMPARISONS, COMPLETIONS, RULES, RuleSpec

MAX_BUDGET = 2_000_000_000


@dataclass(frozen=True)
class PotSettings:
    kind: str
    max_choices: int
    min_choices: int
    points_total: int
    max_points_per_project: int
    min_spend_percent: int


@dataclass(frozen=True)
class VotingSettings:
    verified_only: bool
    min_age: int | None
    rule: str
    rule_options: str
    pots: dict[int, PotSettings]


def settings_values(voting: RoundVoting | None, pots: dict[int, PotVoting | None]
                    ) -> dict[str, str]:
    options = json.loads(voting.rule_options) if voting else {}
    values = {"verified_only": "yes" if voting is None or voting.verified_only else "",
              "min_age": str(voting.min_age) if voting and voting.min_age else "",
              "rule": voting.rule if voting else "greedy",
              "completion": options.get("completion", "none"),
              "comparison": options.get("comparison", "none"),
              "threshold": str(options.get("threshold") or "")}
    for pot_id, setup in pots.items():
        setup = setup or PotVoting(round_id=0, pot_id=pot_id)
        values.update({f"kind_{pot_id}": setup.kind, f"max_{pot_id}": str(setup.max_choices),
                       f"min_{pot_id}": str(setup.min_choices),
                       f"points_{pot_id}": str(setup.points_total),
                       f"per_{pot_id}": str(setup.max_points_per_project),
                       f"spend_{pot_id}": str(setup.min_spend_percent)})
    return values


def _choice(form: Form, data: FormData, name: str, allowed: tuple[str, ...]) -> str:
    value = field_str(data, name, 20)
    form.values[name] = value
    if value not in allowed:
        form.errors[name] = _("Choose one of the options.")
    return value


def _pot(form: Form, data: FormData, pot_id: int) -> PotSettings | None:
    kind = _choice(form, data, f"kind_{pot_id}", tuple(str(k) for k in KINDS))
    numbers = [_whole(form, data, f"{name}_{pot_id}", 0, high, required=False) or 0
               for name, high in (("max", 1000), ("min", 1000), ("points", 100_000),
                                  ("per", 100_000), ("spend", 100))]
    high, low, points, per, spend = numbers
    if high and low > high:
        form.errors[f"min_{pot_id}"] = _("The minimum cannot be above the maximum.")
    if kind == "cumulative" and points < 1:
        form.errors[f"points_{pot_id}"] = _("Give residents at least one point to spread.")
    if kind == "ordinal" and high < 1:
        form.errors[f"max_{pot_id}"] = _("Say how many projects a resident may rank.")
    if any(f.endswith(f"_{pot_id}") for f in form.errors):
        return None
    return PotSettings(kind, high, low, points, per, spend)


def settings_form(data: FormData, pot_ids: list[int]) -> tuple[Form, VotingSettings | None]:
    form = Form()
    verified_only = data.get("verified_only") == "yes"
    form.values["verified_only"] = "yes" if verified_only else ""
    min_age = _whole(form, data, "min_age", 0, 120, required=False)
    rule = _choice(form, data, "rule", RULES)
    completion = _choice(form, data, "completion", COMPLETIONS)
    comparison = _choice(form, data, "comparison", COMPARISONS)
    threshold = _whole(form, data, "threshold", 0, 10_000_000, required=False)
    pots = {pot_id: _pot(form, data, pot_id) for pot_id in pot_ids}
    if form.ok:
        try:
            RuleSpec(rule=rule, completion=completion, comparison=comparison,
                     threshold=threshold)
        except ValueError:
            form.errors["rule"] = _("These counting options do not go together.")
    if not form.ok:
        return form, None
    options = json.dumps({"completion": completion, "comparison": comparison,
                          "threshold": threshold}, sort_keys=True)
    return form, VotingSettings(verified_only, min_age or None, rule, options,
                                {k: v for k, v in pots.items() if v is not None})


def items_form(data: FormData, idea_ids: list[int], pot_ids: list[int]
               ) -> tuple[Form, dict[int, tuple[int, int]] | None]:
    """Ideas ticked for the ballot, each with a pot and a final cost: {idea: (pot, cost)}."""
    form = Form()
    chosen: dict[int, tuple[int, int]] = {}
    for idea in idea_ids:
        on = data.get(f"on_{idea}") == "yes"
        form.values[f"on_{idea}"] = "yes" if on else ""
        cost = _whole(form, data, f"cost_{idea}", 0, MAX_BUDGET, required=on)
        pot_raw = field_str(data, f"pot_{idea}", 20)
        form.values[f"pot_{idea}"] = pot_raw
        pot = int(pot_raw) if pot_raw.isascii() and pot_raw.isdigit() else 0
        if on and pot not in pot_ids:
            form.errors[f"pot_{idea}"] = _("Choose the budget this project is paid from.")
        if on and cost is not None and pot in pot_ids:
            chosen[idea] = (pot, cost)
    return form, chosen if form.ok else None


@dataclass(frozen=True)
class PaperData:
    serial: str
    pot_id: int
    id_number: str
    marks: Marks


def paper_form(data: FormData, pot_ids: list[int], idea_ids: list[int]
               ) -> tuple[Form, PaperData | None]:
    form = Form()
    serial = field_str(data, "serial", 40)
    form.values["serial"] = serial
    if not serial or len(serial) > 40 or not all(ch.isalnum() or ch in "-/" for ch in serial):
        form.errors["serial"] = _("Enter the number printed on the ballot paper "
                                  "(letters, digits, - and /).")
    pot_raw = field_str(data, "pot", 20)
    form.values["pot"] = pot_raw
    pot = int(pot_raw) if pot_raw.isascii() and pot_raw.isdigit() else 0
    if pot not in pot_ids:
        form.errors["pot"] = _("Choose the budget this ballot paper is for.")
    id_number = field_str(data, "id_number", 40)
    form.values["id_number"] = ""  # never shown again
    if sum(ch.isalnum() for ch in id_number) < 5:
        form.errors["id_number"] = _("Enter the voter's ID number.")
    marks: Marks = {}
    for idea in idea_ids:
        value = _whole(form, data, f"mark_{idea}", 0, 100_000, required=False)
        if value:
            marks[idea] = value
    if not form.ok:
        return form, None
    return form, PaperData(serial.upper(), pot, id_number, marks)
