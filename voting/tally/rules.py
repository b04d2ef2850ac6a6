"""One entry point for every rule and convention: ``tally(election, RuleSpec(...))``.

``RuleSpec.from_meta`` maps a pabulib ``rule`` value to the convention the city used, so that
running the rule named in a file reproduces the file's ``selected`` projects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from voting.tally.greedy import Pots, greedy
from voting.tally.mes import MesRun, mes_steps, run_mes
from voting.tally.mes_exact import MesData
from voting.tally.model import Election, Money, as_money
from voting.tally.result import ComparisonStep, CompletionStep, GreedyStep, Result, Step
from voting.tally.tiebreak import DEFAULT_TIE_BREAK, TieBreak

RULES = ("greedy", "mes")
COMPLETIONS = ("none", "add1", "add1u", "utilitarian")
COMPARISONS = ("none", "satisfaction", "exclusion")

Progress = Callable[[Money, Money], None]
"""Called after each add1 iteration with the per-voter budget and the outcome's cost."""


class UnknownRule(ValueError):
    """The file names a rule that cannot be recomputed from the data (e.g. ``greedy-custom``)."""


@dataclass(frozen=True)
class RuleSpec:
    """Which rule to run and with which conventions.

    ``integral_start`` starts add1 at ``floor(B/n)`` per voter (equalshares.net and the pabulib
    checker); ``False`` starts at exactly ``B/n`` (pabutools). ``exhaustive_stop`` stops add1 at
    the first exhaustive outcome (pabutools, the compute tool); without it add1 keeps raising
    the per-voter budget while the outcome still fits (pabulib definition, Wieliczka 2023).
    """

    rule: str = "greedy"
    threshold: Money | None = None
    skip: bool = True
    completion: str = "none"
    exhaustive_stop: bool = True
    increment: Money = 1
    integral_start: bool = True
    comparison: str = "none"
    tie_break: TieBreak = DEFAULT_TIE_BREAK
    pots: Pots | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}; use one of {RULES}")
        if self.completion not in COMPLETIONS:
            raise ValueError(f"unknown completion {self.completion!r}; use one of {COMPLETIONS}")
        if self.comparison not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.comparison!r}; use one of {COMPARISONS}")
        if self.increment <= 0:
            raise ValueError("the add1 increment must be positive")

    @classmethod
    def from_meta(cls, meta: Mapping[str, str], **overrides: object) -> RuleSpec:
        """The convention for a pabulib ``rule``. Raises :class:`UnknownRule` for rules whose
        outcome the data cannot determine (greedy-custom, greedy-exclusive, unknown)."""
        name = meta.get("rule", "").strip()
        spec: RuleSpec
        if name == "greedy":
            spec = cls()
        elif name == "greedy-no-skip":
            spec = cls(skip=False)
        elif name == "greedy-threshold":
            raw = meta.get("min_project_score_threshold", "").strip()
            if not raw:
                raise UnknownRule("greedy-threshold needs META min_project_score_threshold")
            spec = cls(threshold=as_money(raw))
        elif name == "equalshares":
            spec = cls(rule="mes")
        elif name == "equalshares-comparison":
            spec = cls(rule="mes", comparison="satisfaction")
        elif name == "equalshares/add1":
            spec = cls(rule="mes", completion="add1")
        elif name == "equalshares/add1-comparison":
            # Wieliczka 2023: add1 without the exhaustive stop, then the comparison step.
            spec = cls(
                rule="mes", completion="add1", exhaustive_stop=False, comparison="satisfaction"
            )
        else:
            raise UnknownRule(f"META rule {name!r} cannot be recomputed; choose one with --rule")
        return replace(spec, **overrides)  # type: ignore[arg-type]

    def describe(self) -> str:
        if self.rule == "greedy":
            parts = ["greedy by score"]
            parts.append("skipping projects that do not fit" if self.skip else "no skipping")
            if self.threshold is not None:
                parts.append(f"minimum score {self.threshold}")
            return ", ".join(parts)
        parts = ["method of equal shares"]
        if self.threshold is not None:
            parts.append(f"minimum score {self.threshold}")
        if self.completion in ("add1", "add1u"):
            start = "integral start" if self.integral_start else "start at budget/voters"
            stop = "exhaustive stop" if self.exhaustive_stop else "no exhaustive stop"
            parts.append(f"add1 completion (increment {self.increment}, {start}, {stop})")
        if self.completion in ("add1u", "utilitarian"):
            parts.append("utilitarian greedy completion")
        if self.comparison != "none":
            parts.append(f"comparison step ({self.comparison})")
        return ", ".join(parts)


def tally(
    election: Election,
    spec: RuleSpec,
    progress: Progress | None = None,
    *,
    explain: bool = True,
) -> Result:
    """Run *spec* on *election*. With ``explain=False`` the exact per-selection MES steps
    (prices and payments) are left out, which saves their replay on very large elections.

    Guarantees: the total cost never exceeds the budget; the result is deterministic for a
    given tie-break chain (which is recorded in the result); every exact tie is resolved by the
    chain. Raises ``ValueError`` for inconsistent options.
    """
    if spec.rule == "greedy":
        result = greedy(
            election,
            tie_break=spec.tie_break,
            skip=spec.skip,
            threshold=spec.threshold,
            pots=spec.pots,
        )
        return replace(result, rule=spec.describe())
    return _tally_mes(election, spec, progress, explain)


def _tally_mes(
    election: Election, spec: RuleSpec, progress: Progress | None, explain: bool
) -> Result:
    excluded = set()
    if spec.threshold is not None:
        excluded = {i for i, s in enumerate(election.scores) if s < spec.threshold}
    data = MesData.build(election, excluded)
    ranks = spec.tie_break.ranks(election)
    voters = election.profile.num_voters
    steps: list[Step] = []
    if voters == 0:
        run = MesRun(0, [])
    elif spec.completion in ("add1", "add1u"):
        run, completion = add1(data, ranks, spec, progress)
        steps.append(completion)
    else:
        run = run_mes(data, Fraction(election.budget, voters), ranks)
    if explain:
        steps.extend(mes_steps(data, run))
    selected = list(run.selected)
    if spec.completion in ("add1u", "utilitarian"):
        filled = greedy(
            election, tie_break=spec.tie_break, threshold=spec.threshold, initial=selected
        )
        added = tuple(filled.selected[len(selected) :])
        steps.append(
            CompletionStep("utilitarian", None, 1, "greedy by score over what is left", added)
        )
        steps.extend(s for s in filled.steps_of(GreedyStep) if s.outcome == "selected")
        selected = [election.index[pid] for pid in filled.selected]
    if spec.comparison != "none":
        other = greedy(election, tie_break=spec.tie_break, threshold=spec.threshold)
        greedy_sel = [election.index[pid] for pid in other.selected]
        prefer_mes, prefer_greedy = compare(election, selected, greedy_sel, spec.comparison)
        kept = "greedy" if prefer_greedy > prefer_mes else "mes"
        steps.append(
            ComparisonStep(spec.comparison, prefer_mes, prefer_greedy, kept, other.selected)
        )
        if kept == "greedy":
            selected = greedy_sel
            steps.extend(other.steps)
    ids = tuple(election.projects[i].id for i in selected)
    total = sum((election.projects[i].cost for i in selected), 0)
    return Result(ids, total, election.budget, spec.describe(), str(spec.tie_break), tuple(steps))


def add1(
    data: MesData, ranks: list[int], spec: RuleSpec, progress: Progress | None = None
) -> tuple[MesRun, CompletionStep]:
    """Raise every voter's budget by ``spec.increment`` and rerun MES from scratch, keeping the
    last outcome that fits in the budget; with ``exhaustive_stop``, also stop at the first
    exhaustive outcome. Never returns an outcome over budget."""
    election = data.election
    budget, voters = election.budget, election.profile.num_voters
    per_voter: Money = Fraction(budget, voters)
    if spec.integral_start:
        per_voter = math.floor(per_voter)
    per_voter = _norm(per_voter)
    everything = set(data.eligible)
    previous: MesRun | None = None
    iterations = 0
    while True:
        iterations += 1
        run = run_mes(data, per_voter, ranks)
        cost = sum((data.costs[p] for p in run.selected), 0)
        if progress is not None:
            progress(per_voter, cost)
        if cost > budget:
            reason = f"at {per_voter} per voter the outcome would cost {cost}, over the budget"
            kept = previous if previous is not None else MesRun(per_voter, [])
            return kept, CompletionStep("add1", kept.per_voter, iterations, reason)
        chosen = set(run.selected)
        if spec.exhaustive_stop and _is_exhaustive(data, chosen, budget - cost):
            reason = "the outcome is exhaustive: no other project fits in what is left"
            return run, CompletionStep("add1", per_voter, iterations, reason)
        if everything <= chosen:
            reason = "every project is funded"
            return run, CompletionStep("add1", per_voter, iterations, reason)
        previous = run
        per_voter = _norm(per_voter + spec.increment)


def _is_exhaustive(data: MesData, chosen: set[int], left: Money) -> bool:
    return all(p in chosen or data.costs[p] > left for p in data.eligible)


def _norm(amount: Money) -> Money:
    if isinstance(amount, Fraction) and amount.denominator == 1:
        return int(amount)
    return amount


def compare(election: Election, mes: list[int], other: list[int], variant: str) -> tuple[int, int]:
    """Voters preferring each outcome. ``satisfaction``: a voter prefers the outcome with more
    projects they supported. ``exclusion``: the count of voters with at least one supported
    project funded, for each outcome (greedy is kept only if its count is strictly larger)."""
    prof = election.profile
    won_mes = _winners_per_group(election, mes)
    won_other = _winners_per_group(election, other)
    w = prof.weights
    if variant == "exclusion":
        return int(w[won_mes > 0].sum()), int(w[won_other > 0].sum())
    return int(w[won_mes > won_other].sum()), int(w[won_other > won_mes].sum())


def _winners_per_group(election: Election, selected: list[int]) -> np.ndarray:
    prof = election.profile
    funded = np.zeros(len(election.projects), dtype=np.int64)
    funded[selected] = 1
    return np.bincount(
        prof.entry_group, weights=funded[prof.projects], minlength=prof.num_groups
    ).astype(np.int64)
