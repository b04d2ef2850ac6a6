"""A round that has voted and closed, ready to count."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from core.db import Database
from core.models import User, utcnow
from tests.helpers import set_phase
from tests.voting.factories import cast_as, make_voting_round, online


def quick_voter(database: Database, email: str, district: Any) -> Any:
    """A verified resident without a password (hashing one per voter is slow)."""
    with database.session(write=True) as db:
        user = User(email=email, display_name=email, password_hash="!", is_verified=True,
                    district_id=district.id, created_at=utcnow())
        db.add(user)
        db.flush()
        return SimpleNamespace(id=user.id, district_id=district.id)


def make_voted_round(database: Database, **options: Any) -> Any:
    """Round 1 (knapsack, greedy) with ballots from five residents of district 0 and three
    of district 1, all also voting city-wide; then voting closes (counting is open)."""
    setup = make_voting_round(database, **options)
    d0, d1 = setup.districts
    a, b, c, d = setup.items[0]
    e, f, g, h = setup.items[1]
    x, y, z = setup.items[None]
    district_votes = [(d0, {a: 1, b: 1}), (d0, {a: 1, c: 1}), (d0, {a: 1, b: 1}),
                      (d0, {b: 1, d: 1}), (d0, {c: 1}),
                      (d1, {e: 1, f: 1}), (d1, {g: 1}), (d1, {e: 1})]
    city_votes = [{x: 1}, {x: 1, z: 1}, {y: 1}, {x: 1}, {z: 1}, {z: 1}, {x: 1, z: 1}, {y: 1}]
    for n, ((district, marks), city) in enumerate(zip(district_votes, city_votes,
                                                      strict=True)):
        voter = quick_voter(database, f"voter{n}@example.kg", district)
        cast_as(database, setup.round, setup.pots[setup.districts.index(district)],
                online(voter), marks)
        cast_as(database, setup.round, setup.pots[None], online(voter), city)
    set_phase(database, setup.round.id, "counting")
    return setup
