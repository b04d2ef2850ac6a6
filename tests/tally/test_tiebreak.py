"""Tie-break chains are explicit, published and reproducible."""

from __future__ import annotations

import pytest
from tally_helpers import approvals

from voting.tally.tiebreak import TieBreak, lot_draw


def test_default_chain_is_lowest_cost_then_most_votes_then_a_seeded_lot() -> None:
    assert str(TieBreak()) == "min-cost,max-votes,lot:shaar"


def test_lot_is_the_published_hash_of_seed_and_project_id() -> None:
    import hashlib

    assert lot_draw("2024", "p1") == hashlib.sha256(b"2024:p1").hexdigest()


def test_chain_without_a_total_order_ends_with_project_ids() -> None:
    assert TieBreak.parse("min-cost").criteria == ("min-cost", "id")


def test_chain_orders_projects_criterion_by_criterion() -> None:
    election = approvals([10, 5, 5], 10, [[0], [1], [2], [2]])
    ranks = TieBreak.parse("min-cost,max-votes").ranks(election)
    assert ranks == [2, 1, 0]  # p2 (cheap, 2 votes) before p1 (cheap, 1 vote) before p0


def test_a_different_seed_may_reorder_but_the_same_seed_never_does() -> None:
    election = approvals([1] * 8, 10, [])
    first = TieBreak.parse("lot:a").ranks(election)
    assert TieBreak.parse("lot:a").ranks(election) == first
    assert any(TieBreak.parse(f"lot:{s}").ranks(election) != first for s in "bcdef")


def test_unknown_criterion_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown tie-break 'coin'"):
        TieBreak.parse("coin")
