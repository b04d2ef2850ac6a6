"""What a rule returns: the winners in selection order, their cost, and every step that led there.

Amounts are exact (``int`` or ``Fraction``). ``Result.to_dict`` gives a JSON-ready form in which
exact fractions are written as ``"numerator/denominator"`` strings next to a rounded decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar

from voting.tally.model import Money


def money_json(amount: Money | Fraction) -> int | str:
    """Integers stay integers; fractions become ``"p/q"`` so nothing is rounded away."""
    if isinstance(amount, int):
        return amount
    if amount.denominator == 1:
        return int(amount)
    return f"{amount.numerator}/{amount.denominator}"


def money_text(amount: Money | Fraction, places: int = 2) -> str:
    """A readable decimal: ``1,234,567`` or ``312.57``."""
    if isinstance(amount, int) or amount.denominator == 1:
        return f"{int(amount):,}"
    return f"{float(amount):,.{places}f}"


@dataclass(frozen=True)
class GreedyStep:
    """One project in greedy order. ``outcome``: selected, skipped, below-threshold, withdrawn,
    stopped (no-skip mode after the first project that did not fit) or unsupported."""

    project: str
    cost: Money
    score: int
    outcome: str
    remaining: Money
    pot: str | None = None
    kind: str = field(default="greedy", init=False)


@dataclass(frozen=True)
class Payment:
    """``voters`` supporters paid ``total`` together: ``each`` apiece, or, when
    ``all_remaining``, everything they had left (amounts differ, so ``each`` is None)."""

    voters: int
    total: Money
    each: Money | None
    all_remaining: bool


@dataclass(frozen=True)
class MesStep:
    """One MES selection.

    ``price`` is the most any supporter paid per point of utility (per approval for approval
    ballots, where it is the largest individual payment). ``effective_votes`` is the cost divided
    by that price for approval ballots (it equals the vote count while nobody runs short of
    money) and the points-weighted analogue for points ballots. ``tied`` lists other projects that
    were exactly as good; the tie-break chain chose this one.
    """

    project: str
    cost: Money
    votes: int
    effective_votes: Fraction
    price: Fraction
    payments: tuple[Payment, ...]
    tied: tuple[str, ...] = ()
    unit: str = "vote"
    kind: str = field(default="mes", init=False)


@dataclass(frozen=True)
class CompletionStep:
    """How the per-voter budget was raised (add1) or what utilitarian completion added."""

    method: str
    per_voter_budget: Money | None
    iterations: int
    stop_reason: str
    added: tuple[str, ...] = ()
    kind: str = field(default="completion", init=False)


@dataclass(frozen=True)
class ComparisonStep:
    """The comparison step: which outcome more voters prefer, and which one was kept."""

    variant: str
    prefer_mes: int
    prefer_greedy: int
    kept: str
    greedy_selected: tuple[str, ...]
    kind: str = field(default="comparison", init=False)


Step = GreedyStep | MesStep | CompletionStep | ComparisonStep
S = TypeVar("S", GreedyStep, MesStep, CompletionStep, ComparisonStep)


@dataclass(frozen=True)
class Result:
    """Selected project ids in selection order, their total cost, and how they were chosen."""

    selected: tuple[str, ...]
    total_cost: Money
    budget: Money
    rule: str
    tie_break: str
    steps: tuple[Step, ...] = ()

    def steps_of(self, kind: type[S]) -> list[S]:
        """The steps of one kind, in order."""
        return [step for step in self.steps if isinstance(step, kind)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "selected": list(self.selected),
            "total_cost": money_json(self.total_cost),
            "budget": money_json(self.budget),
            "rule": self.rule,
            "tie_break": self.tie_break,
            "steps": [_step_dict(step) for step in self.steps],
        }


def _step_dict(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": step.kind}
    for name, value in vars(step).items():
        if name == "kind":
            continue
        if name == "payments":
            out[name] = [
                {
                    "voters": p.voters,
                    "total": money_json(p.total),
                    "each": None if p.each is None else money_json(p.each),
                    "all_remaining": p.all_remaining,
                }
                for p in value
            ]
        elif isinstance(value, Fraction):
            out[name] = money_json(value)
            out[f"{name}_decimal"] = round(float(value), 6)
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out
