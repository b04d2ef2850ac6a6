"""Tie-breaking chains: an explicit, published order used whenever a rule sees an exact tie.

A chain is a list of criteria applied in turn; the first criterion that separates two projects
decides. The default is the equalshares.net recommendation also used by the pabulib checker:
the lowest cost, then the most votes, then a lot drawn from a published seed. The lot is
reproducible: a project's draw is the SHA-256 of ``seed:project_id``, so anyone with the seed can
recompute it, and the order does not depend on how projects are listed.

Criteria: ``min-cost``, ``max-cost``, ``max-votes``, ``min-votes``, ``max-score``, ``id`` (project
id as a string, ascending: pabutools' default), ``lot:SEED``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voting.tally.model import Election

DEFAULT_SEED = "shaar"
_SIMPLE = ("min-cost", "max-cost", "max-votes", "min-votes", "max-score", "id")


@dataclass(frozen=True)
class TieBreak:
    """An explicit tie-breaking chain; ``criteria`` always ends in a total order (id or lot)."""

    criteria: tuple[str, ...] = ("min-cost", "max-votes", f"lot:{DEFAULT_SEED}")

    def __post_init__(self) -> None:
        for criterion in self.criteria:
            if criterion not in _SIMPLE and not criterion.startswith("lot:"):
                raise ValueError(
                    f"unknown tie-break {criterion!r}; use one of {', '.join(_SIMPLE)}, lot:SEED"
                )
        if not any(c == "id" or c.startswith("lot:") for c in self.criteria):
            # Without a total order a tie could remain undecided; ids are unique, so end there.
            object.__setattr__(self, "criteria", (*self.criteria, "id"))

    @classmethod
    def parse(cls, text: str) -> TieBreak:
        """Parse ``"min-cost,max-votes,lot:2024"``. Raises ``ValueError`` for unknown criteria."""
        criteria = tuple(part.strip() for part in text.split(",") if part.strip())
        if not criteria:
            raise ValueError("empty tie-break chain")
        return cls(criteria)

    def __str__(self) -> str:
        return ",".join(self.criteria)

    def keys(self, election: Election) -> list[tuple[Any, ...]]:
        """One sort key per project: the smaller key wins a tie."""
        keys = []
        for i, project in enumerate(election.projects):
            key: list[Any] = []
            for criterion in self.criteria:
                if criterion == "min-cost":
                    key.append(project.cost)
                elif criterion == "max-cost":
                    key.append(-project.cost)
                elif criterion == "max-votes":
                    key.append(-election.votes[i])
                elif criterion == "min-votes":
                    key.append(election.votes[i])
                elif criterion == "max-score":
                    key.append(-election.scores[i])
                elif criterion == "id":
                    key.append(project.id)
                else:
                    seed = criterion.removeprefix("lot:")
                    key.append(lot_draw(seed, project.id))
            keys.append(tuple(key))
        return keys

    def ranks(self, election: Election) -> list[int]:
        """Rank of each project in the chain's order (0 wins every tie)."""
        keys = self.keys(election)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        rank = [0] * len(keys)
        for position, project in enumerate(order):
            rank[project] = position
        return rank

    def winner(self, election: Election, tied: Sequence[int]) -> int:
        """The project index, among *tied*, that the chain puts first."""
        keys = self.keys(election)
        return min(tied, key=keys.__getitem__)


def lot_draw(seed: str, project_id: str) -> str:
    """The published lot: hex SHA-256 of ``seed:project_id`` (smaller wins)."""
    return hashlib.sha256(f"{seed}:{project_id}".encode()).hexdigest()


DEFAULT_TIE_BREAK = TieBreak()
