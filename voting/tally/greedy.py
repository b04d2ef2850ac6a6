"""Greedy by score: the rule most cities use (CONSUL, Warszawa, Łódź, Kraków, ...).

Projects are taken in decreasing order of score (votes for approval ballots, total points for
points and ranking ballots); each project that still fits in the remaining money is funded, and
one that does not fit is skipped. Options: stop at the first project that does not fit
(``skip=False``, pabulib ``greedy-no-skip``), a minimum score (``threshold``, pabulib
``greedy-threshold``) and separate pots (a district's or a category's own budget).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from voting.tally.model import Election, Money
from voting.tally.result import GreedyStep, Result
from voting.tally.tiebreak import DEFAULT_TIE_BREAK, TieBreak


@dataclass(frozen=True)
class Pots:
    """Separate budgets: ``pot_of`` maps a project id to its pot, ``budgets`` a pot to its money.

    A project in a pot must fit in what is left of that pot (and of the overall budget); a
    project without a pot draws on the overall budget only.
    """

    pot_of: Mapping[str, str]
    budgets: Mapping[str, Money]


def greedy_order(election: Election, tie_break: TieBreak) -> list[int]:
    """Project indices by decreasing score, exact ties resolved by the chain."""
    keys = tie_break.keys(election)
    scores = election.scores
    return sorted(range(len(election.projects)), key=lambda i: (-scores[i], keys[i]))


def greedy(
    election: Election,
    *,
    tie_break: TieBreak = DEFAULT_TIE_BREAK,
    skip: bool = True,
    threshold: Money | None = None,
    pots: Pots | None = None,
    initial: Iterable[int] = (),
) -> Result:
    """Greedy by score with skipping.

    Guarantees: the selection never costs more than the budget (nor any pot more than its
    budget); projects are considered in one fixed order, so the result is deterministic; with
    ``skip=True`` and no pots the outcome is exhaustive among eligible projects (no remaining
    eligible project fits). Withdrawn projects (pabulib sentinel cost) are never funded.
    Projects with no votes are eligible unless a threshold excludes them, as in pabutools and
    the pabulib checker. ``initial`` are project indices already funded (used by completions).

    Raises ``ValueError`` when a pot named by ``pots.pot_of`` has no budget.
    """
    already = list(dict.fromkeys(initial))
    spent: Money = sum((election.projects[i].cost for i in already), 0)
    remaining: Money = election.budget - spent
    pot_left: dict[str, Money] = dict(pots.budgets) if pots else {}
    pot_of = pots.pot_of if pots else {}
    for name in set(pot_of.values()):
        if name not in pot_left:
            raise ValueError(f"pot {name!r} has no budget")
    for i in already:
        funded_pot = pot_of.get(election.projects[i].id)
        if funded_pot is not None:
            pot_left[funded_pot] -= election.projects[i].cost
    selected = list(already)
    steps: list[GreedyStep] = []
    stopped = False
    taken = set(already)
    for i in greedy_order(election, tie_break):
        if i in taken:
            continue
        project = election.projects[i]
        score = election.scores[i]
        pot = pot_of.get(project.id)
        if project.is_withdrawn:
            outcome = "withdrawn"
        elif threshold is not None and score < threshold:
            outcome = "below-threshold"
        elif stopped:
            outcome = "stopped"
        elif project.cost <= remaining and (pot is None or project.cost <= pot_left[pot]):
            outcome = "selected"
            selected.append(i)
            remaining -= project.cost
            if pot is not None:
                pot_left[pot] -= project.cost
        else:
            outcome = "skipped"
            # Without skipping, the first project that does not fit ends the count.
            stopped = not skip
        steps.append(GreedyStep(project.id, project.cost, score, outcome, remaining, pot))
    ids = tuple(election.projects[i].id for i in selected)
    return Result(
        selected=ids,
        total_cost=election.budget - remaining,
        budget=election.budget,
        rule=describe_greedy(skip, threshold, pots),
        tie_break=str(tie_break),
        steps=tuple(steps),
    )


def describe_greedy(skip: bool, threshold: Money | None, pots: Pots | None) -> str:
    parts = ["greedy by score"]
    parts.append("skipping projects that do not fit" if skip else "stopping at the first misfit")
    if threshold is not None:
        parts.append(f"minimum score {threshold}")
    if pots:
        parts.append(f"{len(pots.budgets)} pots")
    return ", ".join(parts)
