"""The Method of Equal Shares (MES), fast in floats and exact at every close call.

Every voter starts with the same share of the budget. A project can be funded when its
supporters can pay for it together; each pays ``min(what they have left, t * their points)``
and MES funds, round after round, the project with the lowest price per unit of utility
``rho = t / u`` (``u`` = the project's cost for approval ballots, i.e. cost utilities, and 1 for
points ballots, i.e. cardinal utilities). For approval ballots this is the project with the most
*effective votes* ``cost / t``, which equals its vote count while no supporter runs short.

Exactness: the search runs in float64 over ballot groups (numpy). Whenever the winner of a round
is within a relative ``TOLERANCE`` of another candidate, or a project's affordability is within
that tolerance of its cost, the exact state (:class:`~voting.tally.mes_exact.ExactMes`, rationals)
is brought up to date and decides; the float budgets are then reset from the exact ones. Float
errors here are around 1e-13 relative, far below the tolerance, so a decision made in floats
is the decision exact arithmetic would make. Ties are broken by the explicit chain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from voting.tally.mes_exact import TOLERANCE, ExactMes, MesData, water_fill
from voting.tally.model import Money
from voting.tally.result import MesStep


@dataclass
class MesRun:
    """The outcome of one MES run: selected project indices in order, and exact ties met."""

    per_voter: Money
    selected: list[int]
    ties: dict[int, tuple[int, ...]] = field(default_factory=dict)
    exact_decisions: int = 0


class _Engine:
    def __init__(self, data: MesData, per_voter: Money, ranks: Sequence[int]) -> None:
        self.data = data
        self.per_voter = per_voter
        self.ranks = ranks
        self.b = np.full(data.election.profile.num_groups, float(per_voter))
        self.exact: ExactMes | None = None
        self.util_f = [float(u) for u in data.total_util]
        self.scale_f = [float(data.scale(p)) for p in range(len(data.costs))]

    def evaluate(self, p: int) -> tuple[float, float, bool] | None:
        """(rho, t, close) in floats; None when surely unaffordable; rho = inf when the
        supporters are just short of the cost in floats (close, so exact arithmetic decides)."""
        data = self.data
        bg = self.b[data.supporters[p]]
        n = data.n_f[p]
        c = data.cost_f[p]
        nb = n * bg
        total = float(nb.sum())
        if total < c * (1 - TOLERANCE):
            return None
        close = total < c * (1 + TOLERANCE)
        if total < c:
            return math.inf, math.inf, True
        if data.approval:
            t = water_fill(bg, nb, n, c, self.util_f[p])
        else:
            w = data.points_f[p]
            t = water_fill(bg / w, nb, n * w, c, self.util_f[p])
        return t / self.scale_f[p], t, close

    def pay(self, p: int, t: float) -> None:
        data = self.data
        g = data.supporters[p]
        if data.approval:
            self.b[g] = np.maximum(self.b[g] - t, 0.0)
        else:
            self.b[g] = np.maximum(self.b[g] - t * data.points_f[p], 0.0)

    def sync_exact(self, selected: list[int]) -> ExactMes:
        if self.exact is None:
            self.exact = ExactMes(self.data, self.per_voter)
        exact = self.exact
        for p in selected[len(exact.selected) :]:
            exact.select(p)
        return exact

    def run(self) -> MesRun:
        data, ranks = self.data, self.ranks
        run = MesRun(self.per_voter, sorted(data.free, key=ranks.__getitem__))
        selected = run.selected
        active = set(data.eligible)
        bound = {p: float(data.cost_f[p]) / self.util_f[p] / self.scale_f[p] for p in active}
        last_t: dict[int, float] = {}
        while active:
            best = math.inf
            candidates: list[int] = []
            doubtful: list[int] = []
            for p in sorted(active, key=lambda q: (bound[q], ranks[q])):
                if bound[p] > best * (1 + TOLERANCE):
                    break  # rho only grows, so no later project can beat the best any more
                found = self.evaluate(p)
                if found is None:
                    active.discard(p)
                    continue
                rho, t, close = found
                if close:
                    doubtful.append(p)
                if rho == math.inf:
                    continue
                bound[p], last_t[p] = rho, t
                candidates.append(p)
                best = min(best, rho)
            near = [p for p in candidates if bound[p] <= best * (1 + TOLERANCE)]
            if not near and not doubtful:
                break
            if len(near) == 1 and not doubtful:
                winner, price = near[0], last_t[near[0]]
            else:
                decided = self._decide_exactly(selected, near, doubtful, active, run)
                if decided is None:
                    continue
                winner, price = decided
            self.pay(winner, price)
            selected.append(winner)
            active.discard(winner)
        return run

    def _decide_exactly(
        self,
        selected: list[int],
        near: list[int],
        doubtful: list[int],
        active: set[int],
        run: MesRun,
    ) -> tuple[int, float] | None:
        run.exact_decisions += 1
        exact = self.sync_exact(selected)
        self.b = exact.float_budgets()
        values: dict[int, Fraction] = {}
        for p in dict.fromkeys(near + doubtful):
            rho = exact.rho(p)
            if rho is None:
                active.discard(p)
            else:
                values[p] = rho
        if not values:
            return None
        best = min(values.values())
        tied = [p for p, v in values.items() if v == best]
        winner = min(tied, key=self.ranks.__getitem__)
        if len(tied) > 1:
            run.ties[winner] = tuple(
                sorted((p for p in tied if p != winner), key=self.ranks.__getitem__)
            )
        return winner, float(best * self.data.scale(winner))


def run_mes(data: MesData, per_voter: Money, ranks: Sequence[int]) -> MesRun:
    """One MES run with the given starting budget per voter.

    Guarantees: the selected projects are affordable in exact arithmetic, so their total cost
    is at most ``per_voter * voters``; no project left out is affordable at the end; equal
    prices are resolved by ``ranks`` (lower wins). Deterministic.
    """
    return _Engine(data, per_voter, ranks).run()


def mes_steps(data: MesData, run: MesRun) -> tuple[MesStep, ...]:
    """Replay *run* in exact arithmetic and describe every selection.

    Raises ``ValueError`` if a selected project turns out not to be affordable (which would be a
    bug in the float engine): the explanation doubles as a certificate of the outcome.
    """
    exact = ExactMes(data, run.per_voter)
    election = data.election
    unit = "vote" if data.approval else "point"
    steps = []
    for p in run.selected:
        project = election.projects[p]
        tied = tuple(election.projects[q].id for q in run.ties.get(p, ()))
        if data.costs[p] == 0:
            eff = Fraction(election.votes[p])
            zero = Fraction(0)
            steps.append(MesStep(project.id, 0, election.votes[p], eff, zero, (), tied, unit))
            exact.select(p)
            continue
        t, payments = exact.select(p)
        eff = data.costs[p] / t
        votes = election.votes[p]
        steps.append(MesStep(project.id, data.costs[p], votes, eff, t, payments, tied, unit))
    return tuple(steps)
