"""Exact bookkeeping for the Method of Equal Shares, with integers and a few rationals.

Why this is cheap: a voter who has never run out of money holds exactly
``start - sum(price_r * points_r)`` over the funded projects ``r`` they support, and a voter who
ran out holds 0. So the exact state is one flag per ballot group ("still has money") plus the
exact price of each funded project: a few dozen ``Fraction`` values, whatever the number of
voters. The exact total held by any set of voters is ``start * voters - sum(price_r * M_r)``,
with integer ``M_r`` computed by numpy. Pricing a project then needs exact arithmetic only for
the handful of supporters whose float budget lies within the tolerance of the price.

The float engine in :mod:`voting.tally.mes` calls :class:`ExactMes` to decide close calls, and
explanations replay the outcome here to report exact prices and payments.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from voting.tally.model import Election, Money
from voting.tally.result import Payment

TOLERANCE = 1e-9
"""Relative width of the band in which float comparisons are not trusted."""


@dataclass(frozen=True, eq=False)
class MesData:
    """Per-project supporter arrays, shared by every MES run on one election."""

    election: Election
    approval: bool
    costs: tuple[Money, ...]
    cost_f: tuple[float, ...]
    weights: np.ndarray
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
            cost_f=tuple(float(c) for c in costs),
            weights=prof.weights,
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


def water_fill(
    ratio: np.ndarray, nb: np.ndarray, nw: np.ndarray, cost: float, util: float
) -> float:
    """Float price per point ``t``: supporters whose money per point (``ratio``) is below ``t``
    pay all they have (``nb`` per group), the others pay ``t`` per point (``nw`` points per group).
    Assumes the supporters can afford ``cost`` together. Each pass can only cap more supporters,
    so the loop ends after at most as many passes as there are distinct budget levels."""
    t = cost / util
    count = 0
    while True:
        capped = np.flatnonzero(ratio < t)
        if capped.size == count:
            return t
        count = capped.size
        left = util - float(nw[capped].sum())
        if left <= 0:
            return float(ratio.max())
        t = (cost - float(nb[capped].sum())) / left


class ExactMes:
    """Exact budgets during one MES run.

    ``select`` charges a project's supporters, ``price`` prices a project without charging.
    """

    def __init__(self, data: MesData, per_voter: Money) -> None:
        self.data = data
        groups = data.election.profile.num_groups
        self.start = Fraction(per_voter)
        self.alive = np.ones(groups, dtype=bool)
        self.fb = np.full(groups, float(per_voter))
        self.selected: list[int] = []
        self._paying: list[tuple[int, Fraction]] = []
        self._price_of: dict[int, Fraction] = {}
        self._scratch = np.zeros(groups, dtype=np.int64)

    def _held(self, groups: np.ndarray, voters: np.ndarray) -> Fraction:
        """Exact money held by ``voters[k]`` voters of each alive group ``groups[k]``."""
        if groups.size == 0:
            return Fraction(0)
        held = self.start * int(voters.sum())
        scratch = self._scratch
        scratch[groups] = voters
        for r, t in self._paying:
            m = int(scratch[self.data.supporters[r]] @ self.data.points[r])
            if m:
                held -= t * m
        scratch[groups] = 0
        return held

    def budget(self, group: int) -> Fraction:
        """Exact money one voter of *group* has left."""
        if not self.alive[group]:
            return Fraction(0)
        prof = self.data.election.profile
        lo, hi = int(prof.indptr[group]), int(prof.indptr[group + 1])
        left = self.start
        for p, w in zip(prof.projects[lo:hi].tolist(), prof.points[lo:hi].tolist(), strict=True):
            t = self._price_of.get(p)
            if t is not None:
                left -= t * w
        return left

    def _solve(self, p: int) -> tuple[Fraction, np.ndarray] | None:
        """Exact price per point of *p* and the mask of its supporters who pay all they have."""
        data = self.data
        g = data.supporters[p]
        w = data.points[p]
        n = data.weights[g]
        alive = self.alive[g]
        cost = data.costs[p]
        if self._held(g[alive], n[alive]) < cost:
            return None
        fb = np.where(alive, self.fb[g], 0.0)
        ratio = fb / data.points_f[p]
        nf = data.n_f[p]
        util = float(data.total_util[p])
        t_f = water_fill(ratio, nf * fb, nf * data.points_f[p], data.cost_f[p], util)
        band = TOLERANCE * max(t_f, float(self.start))
        capped = ratio < t_f - band
        unsure = np.flatnonzero(~capped & (ratio <= t_f + band))
        exact_ratio = [self.budget(int(g[k])) / int(w[k]) for k in unsure]
        decided = [False] * len(unsure)
        while True:
            mask = capped.copy()
            mask[unsure[[k for k, d in enumerate(decided) if d]]] = True
            paying_all = mask & alive
            held = self._held(g[paying_all], n[paying_all])
            rest = int((n[~mask] * w[~mask]).sum())
            if rest == 0:
                # Everyone pays all they have: only possible when that is exactly the cost.
                return max(self.budget(int(i)) / int(q) for i, q in zip(g, w, strict=True)), mask
            t = (cost - held) / rest
            now = [r < t for r in exact_ratio]
            if now == decided:
                return t, mask
            decided = now

    def price(self, p: int) -> Fraction | None:
        """The exact price per point ``t`` of *p* (each supporter pays ``min(budget, t * points)``),
        or ``None`` if its supporters cannot afford it."""
        if self.data.costs[p] == 0:
            return Fraction(0)
        solved = self._solve(p)
        return None if solved is None else solved[0]

    def rho(self, p: int) -> Fraction | None:
        """Price per unit of utility: the quantity MES minimises."""
        t = self.price(p)
        return None if t is None else t / self.data.scale(p)

    def select(self, p: int) -> tuple[Fraction, tuple[Payment, ...]]:
        """Fund *p*: charge its supporters; return its price and who paid what.

        Raises ``ValueError`` if the supporters cannot afford it (a bug in the caller).
        """
        data = self.data
        self.selected.append(p)
        if data.costs[p] == 0:
            return Fraction(0), ()
        solved = self._solve(p)
        if solved is None:
            raise ValueError(f"project {data.election.projects[p].id} is not affordable")
        t, mask = solved
        g = data.supporters[p]
        w = data.points[p]
        n = data.weights[g]
        alive = self.alive[g]
        paying_all = mask & alive
        payments = []
        partial = ~mask & alive
        for q in np.unique(w[partial]).tolist():
            voters = int(n[partial & (w == q)].sum())
            payments.append(Payment(voters, _norm(t * q * voters), _norm(t * q), False))
        if paying_all.any():
            held = self._held(g[paying_all], n[paying_all])
            payments.append(Payment(int(n[paying_all].sum()), _norm(held), None, True))
        self.alive[g[paying_all]] = False
        self.fb[g] = np.where(mask, 0.0, np.maximum(self.fb[g] - float(t) * data.points_f[p], 0.0))
        self._paying.append((p, t))
        self._price_of[p] = t
        return t, tuple(payments)

    def float_budgets(self) -> np.ndarray:
        """Budgets per ballot group as floats, to resynchronise the fast engine."""
        return self.fb.copy()


def _norm(amount: Fraction) -> Money:
    return int(amount) if amount.denominator == 1 else amount
