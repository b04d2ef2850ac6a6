"""Plain values the counting rules work on: projects, deduplicated weighted ballots, an election.

Every ballot type is reduced to per-project *points* (a non-negative integer utility):
approval and knapsack ballots give 1 point to each approved project, cumulative and scoring
ballots give their points, ordinal ballots give positional points (for example 3/2/1 in Kraków).
Identical ballots are stored once with a weight, which is what makes counting a 90,000-voter
city fast: there are usually far fewer distinct ballots than voters.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

Money = int | Fraction
"""An exact amount: costs, budgets and payments are never floats."""

WITHDRAWN_COST = 999_999_999
"""pabulib's sentinel cost for a project admitted to the vote and withdrawn afterwards."""


def as_money(value: int | str | Fraction) -> Money:
    """Return *value* as an exact amount, an ``int`` whenever it is integral.

    Accepts a decimal comma ("1000,50"). Raises ``ValueError`` for anything that is not a
    finite number, and for negative amounts.
    """
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not text:
            raise ValueError("empty amount")
        amount = Fraction(text)
    else:
        amount = Fraction(value)
    if amount < 0:
        raise ValueError(f"negative amount {value!r}")
    return int(amount) if amount.denominator == 1 else amount


@dataclass(frozen=True)
class Project:
    """A project on the ballot. ``cost`` is exact; ``id`` is compared as a string."""

    id: str
    cost: Money
    name: str = ""

    @property
    def is_withdrawn(self) -> bool:
        """True for pabulib's sentinel cost: the project stays on ballots but is never funded."""
        return self.cost == WITHDRAWN_COST


class BallotKind(enum.StrEnum):
    """How voters expressed themselves. ``choose-1`` files are read as approval."""

    APPROVAL = "approval"
    KNAPSACK = "knapsack"
    CUMULATIVE = "cumulative"
    SCORING = "scoring"
    ORDINAL = "ordinal"

    @property
    def is_approval(self) -> bool:
        """Approval-like ballots count one point per approved project."""
        return self in (BallotKind.APPROVAL, BallotKind.KNAPSACK)


@dataclass(frozen=True, eq=False)
class Profile:
    """Distinct ballots in compressed-sparse-row form, each with the number of voters who cast it.

    Ballot ``g`` gives ``points[indptr[g]:indptr[g+1]]`` points to the projects at positions
    ``projects[indptr[g]:indptr[g+1]]`` (indices into ``Election.projects``), and was cast by
    ``weights[g]`` voters. Entries with zero points are not stored.
    """

    kind: BallotKind
    indptr: np.ndarray
    projects: np.ndarray
    points: np.ndarray
    weights: np.ndarray

    @property
    def num_groups(self) -> int:
        return int(self.weights.shape[0])

    @cached_property
    def num_voters(self) -> int:
        return int(self.weights.sum())

    def ballot(self, group: int) -> dict[int, int]:
        """Points of one distinct ballot, by project index."""
        lo, hi = int(self.indptr[group]), int(self.indptr[group + 1])
        return dict(zip(self.projects[lo:hi].tolist(), self.points[lo:hi].tolist(), strict=True))

    @cached_property
    def entry_group(self) -> np.ndarray:
        """For each stored entry, the index of its ballot group."""
        lengths = np.diff(self.indptr)
        return np.repeat(np.arange(self.num_groups, dtype=np.int64), lengths)

    @classmethod
    def from_arrays(
        cls,
        kind: BallotKind,
        lengths: Sequence[int],
        projects: Sequence[int],
        points: Sequence[int],
        weights: Sequence[int],
    ) -> Profile:
        """Build a profile from flat lists; entries with zero points are dropped.

        Raises ``ValueError`` when a ballot names the same project twice.
        """
        proj = np.asarray(projects, dtype=np.int32)
        pts = np.asarray(points, dtype=np.int64)
        group = np.repeat(np.arange(len(lengths), dtype=np.int64), np.asarray(lengths, np.int64))
        keep = pts != 0
        if not keep.all():
            proj, pts, group = proj[keep], pts[keep], group[keep]
        if proj.size:
            pair = np.sort(group * (int(proj.max()) + 1) + proj)
            if (pair[1:] == pair[:-1]).any():
                raise ValueError("a ballot names the same project twice")
        counts = np.bincount(group, minlength=len(lengths))
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(kind, indptr, proj, pts, np.asarray(weights, dtype=np.int64))

    @classmethod
    def from_counts(
        cls, kind: BallotKind, counts: Mapping[tuple[tuple[int, int], ...], int]
    ) -> Profile:
        """Build a profile from ``{((project index, points), ...): voters}``."""
        lengths = np.fromiter((len(b) for b in counts), dtype=np.int64, count=len(counts))
        indptr = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        flat = [entry for ballot in counts for entry in ballot]
        pairs = np.array(flat, dtype=np.int64).reshape(-1, 2)
        weights = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
        return cls(
            kind=kind,
            indptr=indptr,
            projects=pairs[:, 0].astype(np.int32),
            points=pairs[:, 1].copy(),
            weights=weights,
        )


@dataclass(frozen=True, eq=False)
class Election:
    """Projects, the budget and the ballots: everything a rule needs, nothing else."""

    projects: tuple[Project, ...]
    budget: Money
    profile: Profile

    def __post_init__(self) -> None:
        ids = [p.id for p in self.projects]
        if len(set(ids)) != len(ids):
            raise ValueError("project ids must be unique")
        if self.budget < 0:
            raise ValueError("the budget cannot be negative")

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each project id in ``projects``."""
        return {p.id: i for i, p in enumerate(self.projects)}

    @cached_property
    def votes(self) -> tuple[int, ...]:
        """Number of voters who gave each project a positive number of points."""
        prof = self.profile
        counts = np.bincount(
            prof.projects, weights=prof.weights[prof.entry_group], minlength=len(self.projects)
        )
        return tuple(int(round(c)) for c in counts)

    @cached_property
    def scores(self) -> tuple[int, ...]:
        """Total points of each project: its vote count for approval ballots."""
        if self.profile.kind.is_approval:
            return self.votes
        prof = self.profile
        totals = [0] * len(self.projects)
        # Exact integer sums: np.bincount would go through float64.
        per_entry = prof.points * prof.weights[prof.entry_group]
        for project, amount in zip(prof.projects.tolist(), per_entry.tolist(), strict=True):
            totals[project] += amount
        return tuple(totals)

    def project(self, project_id: str) -> Project:
        return self.projects[self.index[project_id]]


def _profile_from_dicts(
    projects: Sequence[Project],
    kind: BallotKind,
    ballots: Iterable[Mapping[str, int]],
    weights: Iterable[int] | None,
) -> Profile:
    index = {p.id: i for i, p in enumerate(projects)}
    counts: dict[tuple[tuple[int, int], ...], int] = {}
    weight_iter = iter(weights) if weights is not None else None
    for ballot in ballots:
        weight = next(weight_iter) if weight_iter is not None else 1
        if weight < 0:
            raise ValueError("ballot weights cannot be negative")
        entries = []
        for project_id, pts in ballot.items():
            if project_id not in index:
                raise ValueError(f"ballot names unknown project {project_id!r}")
            if pts < 0 or int(pts) != pts:
                raise ValueError(f"points must be non-negative integers, got {pts!r}")
            if pts:
                entries.append((index[project_id], int(pts)))
        key = tuple(sorted(entries))
        counts[key] = counts.get(key, 0) + weight
    return Profile.from_counts(kind, counts)


def approval_election(
    projects: Sequence[Project],
    budget: Money,
    ballots: Iterable[Iterable[str]],
    weights: Iterable[int] | None = None,
    *,
    kind: BallotKind = BallotKind.APPROVAL,
) -> Election:
    """An election with approval (or knapsack) ballots, each a collection of project ids."""
    dicts = (dict.fromkeys(ballot, 1) for ballot in ballots)
    return Election(tuple(projects), budget, _profile_from_dicts(projects, kind, dicts, weights))


def points_election(
    projects: Sequence[Project],
    budget: Money,
    ballots: Iterable[Mapping[str, int]],
    weights: Iterable[int] | None = None,
    *,
    kind: BallotKind = BallotKind.CUMULATIVE,
) -> Election:
    """An election with cumulative or scoring ballots, each a mapping project id -> points."""
    return Election(tuple(projects), budget, _profile_from_dicts(projects, kind, ballots, weights))


def ordinal_election(
    projects: Sequence[Project],
    budget: Money,
    rankings: Iterable[Sequence[str]],
    points: Sequence[int],
    weights: Iterable[int] | None = None,
) -> Election:
    """An election with rankings; the project ranked ``i``-th (from 0) gets ``points[i]``.

    Raises ``ValueError`` when a ranking is longer than ``points`` or repeats a project.
    """

    def as_points(ranking: Sequence[str]) -> dict[str, int]:
        if len(ranking) > len(points):
            raise ValueError(f"ranking of length {len(ranking)} but only {len(points)} points")
        if len(set(ranking)) != len(ranking):
            raise ValueError("a ranking names a project twice")
        return {pid: points[pos] for pos, pid in enumerate(ranking)}

    dicts = (as_points(r) for r in rankings)
    profile = _profile_from_dicts(projects, BallotKind.ORDINAL, dicts, weights)
    return Election(tuple(projects), budget, profile)


def borda_points(length: int) -> tuple[int, ...]:
    """pabulib's default positional points for rankings of at most ``length``: length, ..., 1."""
    return tuple(range(length, 0, -1))
