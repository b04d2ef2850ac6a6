"""What makes a ballot valid, for each ballot type; the basket edits; the canonical form.

Pure functions over plain values (no web stack, no database), so that property tests can
throw anything at them. A ballot is a mapping idea id -> mark: 1 for each chosen project on
approval and knapsack ballots, the points given on cumulative ballots, the rank (1 = first)
on ordinal ballots. The ballot types are the counting engine's `BallotKind`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from voting.tally.model import BallotKind

Marks = dict[int, int]

#: The ballot types residents can be offered (scoring ballots are a pabulib reading format).
KINDS = (BallotKind.APPROVAL, BallotKind.KNAPSACK, BallotKind.CUMULATIVE, BallotKind.ORDINAL)

#: Problems that adding more can only make worse: a basket refuses an edit that causes one.
HARD = frozenset({"unknown", "bad_mark", "too_many", "over_budget", "too_many_points",
                  "points_per_project", "ranks"})


@dataclass(frozen=True)
class Problem:
    """Something to fix, with the numbers a message needs (`code` names the rule)."""

    code: str
    values: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BallotRules:
    """The rules of one pot's ballot. Counts of 0 mean "no limit"."""

    kind: BallotKind
    costs: Mapping[int, int]
    budget: int
    max_choices: int = 0
    min_choices: int = 1
    points_total: int = 0
    max_points_per_project: int = 0
    min_spend_percent: int = 0

    @property
    def per_project(self) -> int:
        """Most points one project may get (cumulative ballots)."""
        return self.max_points_per_project or self.points_total

    @property
    def min_spend(self) -> int:
        """Som a knapsack ballot must spend: the share of the budget, but never more than
        every project together costs (otherwise no ballot could be valid)."""
        if self.kind != BallotKind.KNAPSACK or not self.min_spend_percent:
            return 0
        share = math.ceil(self.budget * self.min_spend_percent / 100)
        return min(share, self.budget, sum(self.costs.values()))


def spent(rules: BallotRules, marks: Mapping[int, int]) -> int:
    return sum(rules.costs.get(idea, 0) for idea in marks)


def points_used(marks: Mapping[int, int]) -> int:
    return sum(marks.values())


def check_ballot(rules: BallotRules, marks: Mapping[int, int], *,
                 complete: bool = True) -> list[Problem]:
    """Every rule the ballot breaks, in a stable order; [] means valid.

    With ``complete=False`` (a basket being filled) the minimums (too few projects, too
    little spent) are not checked. Guarantees: a ballot with no problems names only
    projects of the ballot, never costs more than the budget (knapsack), never gives more
    points than allowed (cumulative), ranks 1..n without gaps (ordinal), and respects the
    maximum and minimum number of projects.
    """
    problems: list[Problem] = []
    unknown = [idea for idea in marks if idea not in rules.costs]
    if unknown:
        problems.append(Problem("unknown", {"count": len(unknown)}))
    kind, count = rules.kind, len(marks)
    if kind in (BallotKind.APPROVAL, BallotKind.KNAPSACK):
        if any(mark != 1 for mark in marks.values()):
            problems.append(Problem("bad_mark"))
    elif kind == BallotKind.CUMULATIVE:
        per_project = rules.per_project
        if any(mark < 1 for mark in marks.values()):
            problems.append(Problem("bad_mark"))
        elif any(mark > per_project for mark in marks.values()):
            problems.append(Problem("points_per_project", {"max": per_project}))
        used = points_used(marks)
        if used > rules.points_total:
            problems.append(Problem("too_many_points", {"used": used,
                                                        "total": rules.points_total}))
    elif kind == BallotKind.ORDINAL and sorted(marks.values()) != list(range(1, count + 1)):
        problems.append(Problem("ranks"))
    if rules.max_choices and count > rules.max_choices:
        problems.append(Problem("too_many", {"count": count, "max": rules.max_choices}))
    if kind == BallotKind.KNAPSACK:
        total = spent(rules, marks)
        if total > rules.budget:
            problems.append(Problem("over_budget", {"spent": total, "budget": rules.budget,
                                                    "over": total - rules.budget}))
        elif complete and total < rules.min_spend:
            problems.append(Problem("under_spend", {"spent": total, "needed": rules.min_spend,
                                                    "short": rules.min_spend - total}))
    if complete and count < max(rules.min_choices, 1):
        problems.append(Problem("too_few", {"count": count, "min": max(rules.min_choices, 1)}))
    return problems


def hard_problems(rules: BallotRules, marks: Mapping[int, int]) -> list[Problem]:
    return [p for p in check_ballot(rules, marks, complete=False) if p.code in HARD]


def edit_basket(rules: BallotRules, marks: Mapping[int, int], action: str, idea: int,
                points: int = 0) -> tuple[Marks, list[Problem]]:
    """Apply one basket edit: ``add``, ``remove``, ``up``, ``down`` (ordinal), ``points``
    (cumulative; 0 removes). Returns the new marks, or the old marks and the problems the
    edit would cause. Removing is always allowed; ranks stay 1..n."""
    new = dict(marks)
    if action == "remove":
        new.pop(idea, None)
    elif idea not in rules.costs:
        return dict(marks), [Problem("unknown", {"count": 1})]
    elif action == "add" and idea not in new:
        if rules.kind == BallotKind.ORDINAL:
            new[idea] = len(new) + 1
        elif rules.kind == BallotKind.CUMULATIVE:
            new[idea] = 1
        else:
            new[idea] = 1
    elif action == "points" and rules.kind == BallotKind.CUMULATIVE:
        if points <= 0:
            new.pop(idea, None)
        else:
            new[idea] = points
    elif action in ("up", "down") and rules.kind == BallotKind.ORDINAL and idea in new:
        rank = new[idea]
        other_rank = rank - 1 if action == "up" else rank + 1
        other = next((i for i, r in new.items() if r == other_rank), None)
        if other is not None:
            new[idea], new[other] = other_rank, rank
    if rules.kind == BallotKind.ORDINAL:
        new = {i: pos for pos, i in enumerate(sorted(new, key=new.__getitem__), start=1)}
    problems = hard_problems(rules, new)
    if problems and action != "remove":
        return dict(marks), problems
    return new, []


def ranking(marks: Mapping[int, int]) -> list[int]:
    """Idea ids of an ordinal ballot, first choice first."""
    return sorted(marks, key=marks.__getitem__)


def dumps(kind: BallotKind, marks: Mapping[int, int]) -> str:
    """The canonical text of a ballot: the same ballot always gives the same text."""
    return json.dumps({"kind": str(kind), "marks": {str(k): int(v) for k, v in marks.items()}},
                      sort_keys=True, separators=(",", ":"))


def loads(text: str) -> Marks:
    """Marks of a stored ballot or draft; anything malformed reads as an empty ballot."""
    try:
        value = json.loads(text)
        raw = value.get("marks", {}) if isinstance(value, dict) else {}
        return {int(k): int(v) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def parse_marks(values: list[str], limit: int = 200) -> Marks | None:
    """Marks from form values ``IDEA:MARK`` (ASCII digits). None when any value is malformed,
    an idea is named twice, or there are more than `limit`."""
    if len(values) > limit:
        return None
    marks: Marks = {}
    for value in values:
        idea, sep, mark = value.partition(":")
        if (not sep or not idea.isascii() or not idea.isdigit() or not mark.isascii()
                or not mark.isdigit() or len(idea) > 12 or len(mark) > 9):
            return None
        if int(idea) in marks:
            return None
        marks[int(idea)] = int(mark)
    return marks
