"""The paper channel: census only, one counted ballot per person across channels, and no
stored row joining an ID hash to ballot content once a sheet is decided."""

from __future__ import annotations

import itertools
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import select

from contests.models import Round
from core.accounts.services import census_hash, claim_census, set_residency
from core.models import AuditEntry, CensusEntry, Role, User, utcnow
from tests.helpers import csrf_of, make_user, sign_in
from tests.voting.factories import SECRET, make_voter, make_voting_round
from voting import admin_services
from voting.models import Ballot, Channel, PaperEntry, Participation
from voting.routes import online_voter
from voting.services import Voter, VoteRefused, ballot_key, cast_ballot, pseudonym
from voting.verify import verify_round

KEY = ballot_key(SECRET)


def _census(database, id_number: str, district: Any) -> None:
    with database.session(write=True) as s:
        s.add(CensusEntry(id_hash=census_hash("", id_number), district_id=district.id,
                          batch="t"))


def _enter(client, setup, serial, id_number, marks, pot_key=None):
    url = f"/clerk/rounds/{setup.round.id}/paper"
    data = {"csrf_token": csrf_of(client, url), "serial": serial,
            "pot": str(setup.pots[pot_key]), "id_number": id_number}
    data.update({f"mark_{idea}": str(mark) for idea, mark in marks.items()})
    return client.post(url, data=data)


def _as_clerks(client, database):
    with database.session() as s:
        known = s.exec(select(User).where(User.email == "clerk1@example.kg")).first()
    if known is None:
        make_user(database, "clerk1@example.kg", roles=(Role.CLERK,))
        make_user(database, "clerk2@example.kg", roles=(Role.CLERK,))
    for name in ("clerk1", "clerk2"):
        client.cookies.clear()
        sign_in(client, f"{name}@example.kg")
        yield name


def _current_ballots(database) -> list[Ballot]:
    with database.session() as s:
        return list(s.exec(select(Ballot).where(Ballot.is_current.is_(True))).all())  # type: ignore[union-attr]


def test_a_paper_ballot_for_an_id_not_on_the_census_is_refused_and_audited(
        client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    idea = setup.items[None][0]
    for _clerk in _as_clerks(client, database):
        refused = _enter(client, setup, "S-1", "XX 0000001", {idea: 1})
        assert refused.status_code == 422
        assert "not on the census list" in refused.text
    assert _current_ballots(database) == []
    with database.session() as s:
        audits = s.exec(select(AuditEntry).where(
            AuditEntry.action == "voting.paper_refused")).all()
        assert s.exec(select(PaperEntry)).all() == []
    assert len(audits) == 2
    assert all(census_hash("", "XX 0000001") not in a.details for a in audits)


def test_a_paper_ballot_in_another_districts_pot_is_refused(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    _census(database, "AN 1000001", setup.districts[1])
    idea = setup.items[0][0]  # the pot of district 0
    for _clerk in _as_clerks(client, database):
        refused = _enter(client, setup, "S-2", "AN 1000001", {idea: 1}, pot_key=0)
        assert refused.status_code == 422 and "not on the census list" in refused.text
    assert _current_ballots(database) == []
    # the same ID votes in its own district's pot
    own = setup.items[1][0]
    for _clerk in _as_clerks(client, database):
        assert _enter(client, setup, "S-3", "AN 1000001", {own: 1},
                      pot_key=1).status_code == 303
    assert len(_current_ballots(database)) == 1


def test_the_voting_page_states_who_may_vote_on_paper(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    make_user(database, "admin@example.kg", roles=(Role.ADMIN,))
    sign_in(client, "admin@example.kg")
    page = client.get(f"/admin/rounds/{setup.round.id}/voting")
    assert "census only" in page.text


def test_a_decided_sheet_keeps_no_link_from_an_id_hash_to_choices(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    _census(database, "AN 2000002", setup.districts[0])
    _census(database, "AN 3000003", setup.districts[0])
    make_user(database, "admin@example.kg", roles=(Role.ADMIN,))
    ideas = setup.items[None]
    for clerk in _as_clerks(client, database):
        assert _enter(client, setup, "S-4", "AN 2000002", {ideas[0]: 1}).status_code == 303
        mark = ideas[0] if clerk == "clerk1" else ideas[1]
        assert _enter(client, setup, "S-5", "AN 3000003", {mark: 1}).status_code == 303
    client.cookies.clear()
    sign_in(client, "admin@example.kg")
    page = client.get(f"/admin/rounds/{setup.round.id}/paper")
    hashed = census_hash("", "AN 3000003")
    assert "S-5" in page.text and hashed[:12] not in page.text and "ID hash" not in page.text
    entry = re.search(r'name="entry" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    sheet = re.search(r'/paper/sheets/(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.post(f"/admin/rounds/{setup.round.id}/paper/sheets/{sheet}",
                       data={"csrf_token": csrf_of(client, "/"),
                             "entry": entry}).status_code == 303
    assert len(_current_ballots(database)) == 2
    with database.session() as s:
        assert s.exec(select(PaperEntry)).all() == []  # both sheets decided: readings gone
        ids = {p.id_hash for p in s.exec(select(Participation)).all()}
        assert ids == {census_hash("", "AN 2000002"), hashed}
        for ballot in s.exec(select(Ballot)).all():
            assert not {ballot.pseudonym, ballot.content, ballot.salt} & ids


# --- one person, one counted ballot, whatever the order --------------------------------

STEPS = ("verify", "claim", "online", "paper1", "paper2")
class Person:
    def __init__(self, database, setup, n: int) -> None:
        self.database, self.setup, self.number = database, setup, f"AN {n:07d}"
        self.user = make_voter(database, f"p{n}@example.kg", district=setup.districts[0],
                               verified=False)
        _census(database, self.number, setup.districts[0])
        self.serial = f"P-{n}"

    def run(self, step: str, clerks: dict[str, int]) -> None:
        setup, now = self.setup, utcnow()
        with self.database.session(write=True) as s:
            user = s.get(User, self.user.id)
            round_ = s.get(Round, setup.round.id)
            assert user is not None and round_ is not None
            idea = setup.items[None][0]
            try:
                if step == "verify":
                    set_residency(s, user, setup.districts[0].id, True, "admin", now,
                                  actor_id=clerks["admin"])
                elif step == "claim":
                    claim_census(s, user, "", self.number, now, SECRET)
                elif step == "online":
                    cast_ballot(s, round_.id or 0, setup.pots[None], online_voter(user), {idea: 1},
                                key=KEY, now=now)
                else:
                    admin_services.enter_paper(
                        s, round_, self.serial, clerks[step], setup.pots[None],
                        census_hash("", self.number), {idea: 1}, key=KEY, now=now)
            except VoteRefused:
                s.rollback()

    def counted(self) -> int:
        aliases = {pseudonym(KEY, self.setup.round.id, Voter(Channel.ONLINE,
                                                            person_id=self.user.id)),
                   pseudonym(KEY, self.setup.round.id,
                             Voter(Channel.PAPER, id_hash=census_hash("", self.number)))}
        return sum(b.pseudonym in aliases for b in _current_ballots(self.database))


def _staff(database) -> dict[str, int]:
    return {"paper1": make_user(database, "clerk1@example.kg", roles=(Role.CLERK,)).id,
            "paper2": make_user(database, "clerk2@example.kg", roles=(Role.CLERK,)).id,
            "admin": make_user(database, "admin@example.kg", roles=(Role.ADMIN,)).id}


def test_every_order_of_the_five_steps_ends_with_one_counted_ballot(database) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    wrong = []
    for n, order in enumerate(itertools.permutations(STEPS), start=1):
        person = Person(database, setup, n)
        for step in order:
            person.run(step, staff)
        if person.counted() != 1:
            wrong.append((order, person.counted()))
    assert wrong == []
    with database.session() as s:
        assert verify_round(s, setup.round.id).ok
        # one participation per person: 120 people, whatever the order
        assert len(s.exec(select(Participation)).all()) == 120


def test_a_census_claim_after_an_online_and_a_paper_ballot_leaves_one(database) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    person = Person(database, setup, 1)
    for step in ("verify", "online", "paper1", "paper2", "claim"):
        person.run(step, staff)
    assert person.counted() == 1


def test_the_issue_order_claim_after_online_then_paper_is_refused(client, database) -> None:
    """An account verified by an admin votes online, claims its census ID, then clerks
    enter a paper ballot for that ID: refused (it was counted before)."""
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    person = Person(database, setup, 7)
    for step in ("verify", "online", "claim"):
        person.run(step, staff)
    sign_in(client, "clerk1@example.kg")
    refused = _enter(client, setup, "S-9", person.number, {setup.items[None][0]: 1})
    assert refused.status_code == 422 and "another channel" in refused.text
    assert person.counted() == 1


@pytest.mark.parametrize("first", ["online", "paper2"])
def test_an_online_cast_and_the_second_paper_reading_at_once_count_once(database,
                                                                         first) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    people = [Person(database, setup, n) for n in range(1, 7)]
    for person in people:
        person.run("claim", staff)
        person.run("paper1", staff)
    jobs = [(p, "online") for p in people] + [(p, "paper2") for p in people]
    if first == "paper2":
        jobs.reverse()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: job[0].run(job[1], staff), jobs))
    assert [p.counted() for p in people] == [1] * len(people)
    with database.session() as s:
        assert len(s.exec(select(Participation)).all()) == len(people)
