"""A round in the voting phase with ballot items, and helpers to vote through the pages."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from starlette.testclient import TestClient

from core.db import Database
from core.models import utcnow
from ideas.models import Idea, IdeaStatus
from tests.helpers import HOSTILE, csrf_of, make_round, make_user
from voting.models import BallotItem, PotVoting, RoundVoting

DISTRICT_COSTS = (400_000, 300_000, 500_000, 250_000)
CITY_COSTS = (1_000_000, 2_000_000, 900_000)


def make_voting_round(database: Database, *, kind: str = "knapsack",
                      verified_only: bool = False, min_age: int | None = None,
                      phase: str = "voting", **pot_options: int) -> Any:
    """Round 1 with two districts (1,000,000 som each) and a city-wide pot (3,000,000),
    four projects per district and three city-wide, all with hostile titles."""
    setup = make_round(database, phase=phase)
    author = make_user(database, "author@example.kg")
    now = utcnow()
    items: dict[Any, list[int]] = {}
    pots: dict[Any, int] = {}
    with database.session(write=True) as db:
        from sqlmodel import select

        from contests.models import RoundPot

        db.add(RoundVoting(round_id=setup.round.id, verified_only=verified_only,
                           min_age=min_age, updated_at=now))
        rows = db.exec(select(RoundPot).where(RoundPot.round_id == setup.round.id)).all()
        number = 0
        for pot in rows:
            key = next((i for i, d in enumerate(setup.districts) if d.id == pot.district_id),
                       None)
            pots[key] = pot.id
            db.add(PotVoting(round_id=setup.round.id, pot_id=pot.id, kind=kind, **pot_options))
            costs = CITY_COSTS if key is None else DISTRICT_COSTS
            items[key] = []
            for cost in costs:
                number += 1
                idea = Idea(reference=f"2027-{number:04d}", round_id=setup.round.id,
                            author_id=author.id, district_id=pot.district_id,
                            title=f"Project {number} {HOSTILE}", summary=f"Summary {HOSTILE}",
                            estimated_cost=cost, status=IdeaStatus.PUBLISHED, published_at=now)
                db.add(idea)
                db.flush()
                db.add(BallotItem(round_id=setup.round.id, pot_id=pot.id, idea_id=idea.id,
                                  cost=cost, position=number))
                items[key].append(idea.id)
    return SimpleNamespace(round=setup.round, districts=setup.districts, pots=pots,
                           items=items, author=author)


def make_voter(database: Database, email: str = "voter@example.kg", *, district: Any = None,
               verified: bool = True, roles: tuple[str, ...] = ()) -> Any:
    user = make_user(database, email, roles=roles)
    with database.session(write=True) as db:
        from core.models import User

        row = db.get(User, user.id)
        assert row is not None
        row.district_id = district.id if district is not None else None
        row.is_verified = verified
        db.add(row)
    user.district_id = district.id if district is not None else None
    return user


RECEIPT_RE = re.compile(r"/receipts/([0-9a-f]{64})$")


def cast(client: TestClient, round_id: int, pot_id: int, marks: dict[int, int],
         **extra: str) -> Any:
    """POST the review page's cast form, as a browser would."""
    token = csrf_of(client, f"/rounds/{round_id}/vote")
    data: dict[str, Any] = {"csrf_token": token, **extra,
                            "mark": [f"{idea}:{mark}" for idea, mark in marks.items()]}
    return client.post(f"/rounds/{round_id}/vote/{pot_id}/cast", data=data)


def receipt_of(response: Any) -> str:
    assert response.status_code == 303, response.text[:2000]
    match = RECEIPT_RE.search(response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def basket(client: TestClient, round_id: int, pot_id: int, action: str, idea: int,
           points: int = 0, htmx: bool = False) -> Any:
    token = csrf_of(client, f"/rounds/{round_id}/vote/{pot_id}")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/rounds/{round_id}/vote/{pot_id}/basket", headers=headers,
                       data={"csrf_token": token, "action": action, "idea": str(idea),
                             "points": str(points)})


SECRET = "test-secret-key-that-is-long-enough"  # tests.helpers.make_settings uses it


def online(user: Any) -> Any:
    from voting.models import Channel
    from voting.services import Voter

    return Voter(Channel.ONLINE, person_id=user.id, district_id=user.district_id,
                 is_verified=True)


def cast_as(database: Database, round_: Any, pot_id: int, voter: Any, marks: dict[int, int],
            now: Any = None) -> Any:
    """Cast through the service in its own write transaction (as the endpoint does)."""
    from voting.services import ballot_key, cast_ballot

    with database.session(write=True) as db:
        return cast_ballot(db, round_.id or 0, pot_id, voter, marks, key=ballot_key(SECRET),
                           now=now or utcnow())
