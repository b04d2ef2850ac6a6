"""Exact bookkeeping for the Method of Equal Shares, with rationals.

Voters who cast the same ballot always hold the same amount, and far fewer distinct amounts
exist than voters: every budget is the starting budget minus the prices of some selected
projects, or zero. So the exact state is a class id per ballot group plus one ``Fraction`` per
class, and pricing a project only touches the distinct (class, points) levels among its
supporters. The float engine in :mod:`voting.tally.mes` calls this module to decide close calls
and to produce the exact payments shown in explanations.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from voting.tally.model import Election, Money
from voting.tally.result import Payment


@dataclass(frozen=True, eq=False)
class MesData:
    """Per-project supporter arrays, shared by every MES run on one election."""

    election: Election
    approval: bool
    costs: tuple[Money, ...]
    cost_f: np.ndarray
    weights_f: np.ndarray
    supporters: tuple[np.ndarray, ...]
    points: tuple[np.ndarray, ...]
    points_f: tuple[np.ndarray, ...]
    n_f: tuple[np.ndarray, ...]
    total_util: tuple[int, ...]
    eligible: tuple[int, ...]
    free: tuple[int, ...]

    @classmethod
    def build(cls, election: Election, excluded: Collection[int] = ()) -> MesData:
        """Supporter arrays for *election*; projects in *excluded* are never funded."""
        prof = election.profile
        num = len(election.projects)
        order = np.argsort(prof.projects, kind="stable")
        groups = prof.entry_group[order]
        points = prof.points[order]
        bounds = np.zeros(num + 1, dtype=np.int64)
        np.cumsum(np.bincount(prof.projects, minlength=num), out=bounds[1:])
        weights_f = prof.weights.astype(np.float64)
        supporters, pts, pts_f, n_f, total = [], [], [], [], []
        for p in range(num):
            g = groups[bounds[p] : bounds[p + 1]]
            q = points[bounds[p] : bounds[p + 1]]
            supporters.append(g)
            pts.append(q)
            pts_f.append(q.astype(np.float64))
            n_f.append(weights_f[g])
            total.append(int((prof.weights[g] * q).sum()))
        costs = tuple(p.cost for p in election.projects)
        usable = [
            p
            for p in range(num)
            if total[p] > 0 and not election.projects[p].is_withdrawn and p not in excluded
        ]
        return cls(
            election=election,
            approval=prof.kind.is_approval,
            costs=costs,
            cost_f=np.array([float(c) for c in costs]),
            weights_f=weights_f,
            supporters=tuple(supporters),
            points=tuple(pts),
            points_f=tuple(pts_f),
            n_f=tuple(n_f),
            total_util=tuple(total),
            eligible=tuple(p for p in usable if costs[p] > 0),
            free=tuple(p for p in usable if costs[p] == 0),
        )

    def scale(self, p: int) -> Money:
        """Utility of one point: the cost for approval ballots (cost utilities), else 1."""
        return self.costs[p] if self.approval else 1


@dataclass(frozen=True)
class Level:
    """Supporters of one project who hold the same amount and give it the same points."""

    cls: int
    budget: Fraction
    points: int
    voters: int


class ExactMes:
    """Exact budgets during one MES run; ``select`` charges supporters, ``price`` prices a project."""

    def __init__(self, data: MesData, per_voter: Money) -> None:
        self.data = data
        self.cls = np.zeros(data.election.profile.num_groups, dtype=np.int64)
        start = Fraction(per_voter)
        self.budgets: list[Fraction] = [start]
        self._lookup: dict[Fraction, int] = {start: 0}
        self.selected: list[int] = []

    def _levels(self, p: int) -> tuple[list[Level], np.ndarray]:
        data = self.data
        g = data.supporters[p]
        pts = data.points[p]
        width = int(pts.max()) + 1 if pts.size else 1
        key = self.cls[g] * width + pts
        uniq, inverse = np.unique(key, return_inverse=True)
        voters = np.bincount(inverse, weights=data.weights_f[g]).astype(np.int64).tolist()
        levels = [
            Level(c, self.budgets[c], w, n)
            for c, w, n in zip((uniq // width).tolist(), (uniq % width).tolist(), voters, strict=True)
        ]
        return levels, inverse

    def price(self, p: int) -> Fraction | None:
        """The exact price per point ``t`` of project *p*, or ``None`` if its supporters
        cannot afford it. Each supporter would pay ``min(budget, t * points)``."""
        levels, _ = self._levels(p)
        return _price(self.data.costs[p], levels)

    def rho(self, p: int) -> Fraction | None:
        """Price per unit of utility: the quantity MES minimises."""
        t = self.price(p)
        return None if t is None else t / self.data.scale(p)

    def select(self, p: int) -> tuple[Fraction, tuple[Payment, ...]]:
        """Fund *p*: charge its supporters and return its price and who paid what.

        Raises ``ValueError`` if the supporters cannot afford it (a bug in the caller).
        """
        levels, inverse = self._levels(p)
        cost = self.data.costs[p]
        t = _price(cost, levels)
        if t is None:
            raise ValueError(f"project {self.data.election.projects[p].id} is not affordable")
        new_cls = np.empty(len(levels), dtype=np.int64)
        paid: dict[tuple[Fraction, bool], int] = {}
        for k, level in enumerate(levels):
            due = t * level.points
            capped = level.budget <= due
            pay = level.budget if capped else due
            left = level.budget - pay
            new_cls[k] = self._class_of(left)
            paid[(pay, capped)] = paid.get((pay, capped), 0) + level.voters
        self.cls[self.data.supporters[p]] = new_cls[inverse]
        self.selected.append(p)
        payments = tuple(
            Payment(voters, _norm(pay), capped)
            for (pay, capped), voters in sorted(paid.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        )
        return t, payments

    def _class_of(self, amount: Fraction) -> int:
        found = self._lookup.get(amount)
        if found is None:
            found = len(self.budgets)
            self.budgets.append(amount)
            self._lookup[amount] = found
        return found

    def float_budgets(self) -> np.ndarray:
        """Budgets per ballot group as floats, to resynchronise the fast engine."""
        table = np.array([float(b) for b in self.budgets])
        return table[self.cls]

    def left(self, group: int) -> Fraction:
        return self.budgets[int(self.cls[group])]


def _price(cost: Money, levels: list[Level]) -> Fraction | None:
    if sum(level.budget * level.voters for level in levels) < cost:
        return None
    # Supporters who run out first are those with the least money per point.
    ordered = sorted(levels, key=lambda lv: lv.budget / lv.points)
    remaining_util = sum(lv.points * lv.voters for lv in ordered)
    due = Fraction(cost)
    for level in ordered:
        t = due / remaining_util
        if t * level.points <= level.budget:
            return t
        due -= level.budget * level.voters
        remaining_util -= level.points * level.voters
    return None


def _norm(amount: Fraction) -> Money:
    return int(amount) if amount.denominator == 1 else amount
