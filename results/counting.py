"""From stored ballots to the counting engine: one election per pot, the rule of the round,
and the pabulib file anyone can recount. Pure functions over plain values."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from voting.ballots import loads as load_marks
from voting.ballots import ranking
from voting.tally.model import (
    BallotKind,
    Election,
    Project,
    approval_election,
    borda_points,
    ordinal_election,
    points_election,
)
from voting.tally.rules import RuleSpec
from voting.tally.tiebreak import DEFAULT_TIE_BREAK, TieBreak


def engine_version() -> str:
    try:
        return f"shaar {version('shaar')}"
    except PackageNotFoundError:  # pragma: no cover - a checkout without an install
        return "shaar (unversioned)"


@dataclass(frozen=True)
class PotInput:
    """One pot's ballot: its kind, budget, projects (idea id -> cost, in ballot order), the
    longest ranking allowed (ordinal), and the contents of its current ballots; with
    `weights`, `contents` are distinct and `weights[i]` ballots say `contents[i]`."""

    kind: BallotKind
    budget: int
    costs: Mapping[int, int]
    max_choices: int
    contents: Sequence[str]
    weights: Sequence[int] | None = None

    @property
    def ranking_length(self) -> int:
        """Positional points count down from this length (pabulib's Borda)."""
        return self.max_choices or max(len(self.costs), 1)


def rule_spec(rule: str, options_json: str) -> RuleSpec:
    """The round's RuleSpec from its voting settings; unknown options are ignored."""
    try:
        options = json.loads(options_json or "{}")
    except ValueError:
        options = {}
    if not isinstance(options, dict):
        options = {}
    tie = options.get("tie_break")
    return RuleSpec(rule=rule, threshold=options.get("threshold") or None,
                    completion=options.get("completion") or "none",
                    comparison=options.get("comparison") or "none",
                    tie_break=TieBreak.parse(tie) if isinstance(tie, str) else DEFAULT_TIE_BREAK)


def other_spec(spec: RuleSpec) -> RuleSpec:
    """The rule a reader compares with: equal shares (completed greedily, which is quick even
    for a small electorate, unlike add1) for greedy, and greedy for equal shares, with the
    same threshold and tie-breaking."""
    if spec.rule == "greedy":
        return RuleSpec(rule="mes", completion="utilitarian", threshold=spec.threshold,
                        tie_break=spec.tie_break)
    return RuleSpec(rule="greedy", threshold=spec.threshold, tie_break=spec.tie_break)


def spec_json(spec: RuleSpec) -> str:
    data = {"rule": spec.rule, "threshold": spec.threshold, "skip": spec.skip,
            "completion": spec.completion, "exhaustive_stop": spec.exhaustive_stop,
            "increment": spec.increment, "integral_start": spec.integral_start,
            "comparison": spec.comparison, "tie_break": str(spec.tie_break)}
    return json.dumps(data, sort_keys=True, default=str)


def seed_of(tie: TieBreak) -> str:
    """The published seed of the chain's lot ('' when the chain ends in ids)."""
    return next((c.removeprefix("lot:") for c in tie.criteria if c.startswith("lot:")), "")


def election_of(pot: PotInput) -> Election:
    """The pot's election; projects are named by idea id (as text). Identical ballots are
    read once and counted with their number (the profile is the same either way: it groups
    equal ballots in the order they first appear)."""
    projects = [Project(str(idea), cost) for idea, cost in pot.costs.items()]
    contents, weights = pot.contents, pot.weights
    if weights is None:
        grouped = Counter(contents)
        contents, weights = list(grouped), list(grouped.values())
    marks = [load_marks(c) for c in contents]
    if pot.kind == BallotKind.ORDINAL:
        return ordinal_election(projects, pot.budget,
                                ([str(i) for i in ranking(m)] for m in marks),
                                borda_points(pot.ranking_length), weights)
    if pot.kind == BallotKind.CUMULATIVE:
        return points_election(projects, pot.budget,
                               ({str(i): v for i, v in m.items()} for m in marks), weights)
    return approval_election(projects, pot.budget, ([str(i) for i in m] for m in marks),
                             weights, kind=pot.kind)


def tallies_of(election: Election) -> dict[str, dict[str, int]]:
    return {p.id: {"votes": election.votes[i], "score": election.scores[i],
                   "cost": int(p.cost)}
            for i, p in enumerate(election.projects)}


def pabulib_rule(spec: RuleSpec) -> str:
    """The pabulib META ``rule`` naming the convention the spec follows."""
    if spec.rule == "greedy":
        if spec.threshold is not None:
            return "greedy-threshold"
        return "greedy" if spec.skip else "greedy-no-skip"
    if spec.completion == "add1":
        return "equalshares/add1-comparison" if spec.comparison != "none" else "equalshares/add1"
    return "equalshares-comparison" if spec.comparison != "none" else "equalshares"


def _vote_row(kind: BallotKind, marks: Mapping[int, int]) -> tuple[str, str]:
    if kind == BallotKind.ORDINAL:
        return ",".join(str(i) for i in ranking(marks)), ""
    if kind == BallotKind.CUMULATIVE:
        order = sorted(marks, key=lambda i: (-marks[i], i))
        return ",".join(str(i) for i in order), ",".join(str(marks[i]) for i in order)
    return ",".join(str(i) for i in sorted(marks)), ""


def vote_rows(kind: BallotKind, contents: Iterable[str]) -> list[list[str]]:
    """Anonymised VOTES rows: ballots sorted by what they say (never by when they were cast),
    numbered from 1; cumulative rows list points in decreasing order."""
    seen: dict[str, tuple[str, str]] = {}  # identical ballots are common: read each once
    rows: list[tuple[str, str]] = []
    for content in contents:
        row = seen.get(content)
        if row is None:
            row = seen[content] = _vote_row(kind, load_marks(content))
        rows.append(row)
    rows.sort()
    if kind == BallotKind.CUMULATIVE:
        return [[str(n), vote, points] for n, (vote, points) in enumerate(rows, start=1)]
    return [[str(n), vote] for n, (vote, _points) in enumerate(rows, start=1)]
