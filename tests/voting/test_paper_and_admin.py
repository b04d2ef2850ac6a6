"""Paper ballots entered twice by clerks, one channel per person, and the admin's settings."""

from __future__ import annotations

from sqlmodel import select

from core.accounts.services import census_hash
from core.models import AuditEntry, CensusEntry, Role
from tests.helpers import HOSTILE, csrf_of, make_user, sign_in
from tests.voting.factories import cast, make_voter, make_voting_round
from voting.models import Ballot, Participation, PotVoting


def _enter(client, setup, serial, id_number, marks, pot_key=None):
    pot = setup.pots[pot_key]
    data = {"csrf_token": csrf_of(client, f"/clerk/rounds/{setup.round.id}/paper"),
            "serial": serial, "pot": str(pot), "id_number": id_number}
    data.update({f"mark_{idea}": str(mark) for idea, mark in marks.items()})
    return client.post(f"/clerk/rounds/{setup.round.id}/paper", data=data)


def _clerks(database):
    make_user(database, "clerk1@example.kg", roles=(Role.CLERK,))
    make_user(database, "clerk2@example.kg", roles=(Role.CLERK,))


def _census(database, setup, *numbers):
    with database.session(write=True) as s:
        for number in numbers:
            s.add(CensusEntry(id_hash=census_hash("", number),
                              district_id=setup.districts[0].id, batch="t"))


def test_a_paper_ballot_counts_once_two_clerks_agree(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    _clerks(database)
    _census(database, setup, "AN 1234567")
    idea = setup.items[None][0]
    sign_in(client, "clerk1@example.kg")
    first = _enter(client, setup, "S-0001", "AN 1234567", {idea: 1})
    assert first.status_code == 303
    again = _enter(client, setup, "S-0001", "AN 1234567", {idea: 1})
    assert again.status_code == 422 and "another clerk" in again.text
    client.cookies.clear()
    sign_in(client, "clerk2@example.kg")
    assert _enter(client, setup, "s-0001", "an1234567", {idea: 1}).status_code == 303
    with database.session() as s:
        ballot = s.exec(select(Ballot)).one()
        person = s.exec(select(Participation)).one()
    assert ballot.channel == "paper" and person.channel == "paper"
    assert person.id_hash == census_hash("", "AN 1234567") and person.person_id is None
    assert _enter(client, setup, "S-0001", "AN 1234567", {idea: 1}).status_code == 422


def test_clerks_who_disagree_leave_the_sheet_to_an_admin(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    _clerks(database)
    make_user(database, "admin@example.kg", roles=(Role.ADMIN,))
    _census(database, setup, "AN 7654321")
    ideas = setup.items[None]
    sign_in(client, "clerk1@example.kg")
    _enter(client, setup, "S-7", "AN 7654321", {ideas[0]: 1})
    client.cookies.clear()
    sign_in(client, "clerk2@example.kg")
    mismatch = _enter(client, setup, "S-7", "AN 7654321", {ideas[1]: 1})
    assert mismatch.status_code == 303
    client.cookies.clear()
    sign_in(client, "admin@example.kg")
    page = client.get(f"/admin/rounds/{setup.round.id}/paper")
    assert "S-7" in page.text
    import re
    entry = re.search(r'name="entry" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    sheet = re.search(r'/paper/sheets/(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    decided = client.post(f"/admin/rounds/{setup.round.id}/paper/sheets/{sheet}",
                          data={"csrf_token": csrf_of(client, "/"), "entry": entry})
    assert decided.status_code == 303
    with database.session() as s:
        assert s.exec(select(Ballot)).one().channel == "paper"
        assert s.exec(select(AuditEntry).where(
            AuditEntry.action == "voting.paper_resolve")).one()


def test_one_person_votes_once_online_or_on_paper(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    _clerks(database)
    voter = make_voter(database, district=setup.districts[0])
    with database.session(write=True) as s:
        s.add(CensusEntry(id_hash=census_hash("", "AN 5555555"), district_id=setup.districts[0].id,
                          claimed_by_id=voter.id, batch="t"))
    idea = setup.items[None][0]
    sign_in(client, "voter@example.kg")
    assert cast(client, setup.round.id, setup.pots[None], {idea: 1}).status_code == 303
    client.cookies.clear()
    sign_in(client, "clerk1@example.kg")
    refused = _enter(client, setup, "S-9", "AN 5555555", {idea: 1})
    assert refused.status_code == 422 and "another channel" in refused.text
    # and the other way round: a paper voter cannot then vote online
    _census(database, setup, "AN 6666666")
    for clerk in ("clerk1", "clerk2"):
        client.cookies.clear()
        sign_in(client, f"{clerk}@example.kg")
        _enter(client, setup, "S-10", "AN 6666666", {idea: 1})
    late = make_voter(database, "late@example.kg", district=setup.districts[0])
    with database.session(write=True) as s:
        entry = s.exec(select(CensusEntry).where(
            CensusEntry.id_hash == census_hash("", "AN 6666666"))).one()
        entry.claimed_by_id = late.id
        s.add(entry)
    client.cookies.clear()
    sign_in(client, "late@example.kg")
    online = cast(client, setup.round.id, setup.pots[None], {idea: 1})
    assert online.status_code == 422 and "another channel" in online.text


def test_residents_and_clerks_cannot_reach_the_admin_pages(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    for path in (f"/admin/rounds/{setup.round.id}/voting", f"/admin/rounds/{setup.round.id}/paper",
                 f"/clerk/rounds/{setup.round.id}/paper"):
        assert client.get(path).status_code == 403


def test_admin_sets_the_ballot_type_and_it_is_frozen_once_voting_started(client,
                                                                          database) -> None:
    setup = make_voting_round(database, kind="approval")
    make_user(database, "admin@example.kg", roles=(Role.ADMIN,))
    make_voter(database, district=setup.districts[0])
    sign_in(client, "admin@example.kg")
    url = f"/admin/rounds/{setup.round.id}/voting"
    page = client.get(url)
    assert page.status_code == 200 and HOSTILE not in page.text
    form = {"csrf_token": csrf_of(client, url), "verified_only": "yes", "rule": "mes",
            "completion": "add1", "comparison": "none", "threshold": "", "min_age": ""}
    for pot in setup.pots.values():
        form.update({f"kind_{pot}": "ordinal", f"max_{pot}": "3", f"min_{pot}": "1",
                     f"points_{pot}": "0", f"per_{pot}": "0", f"spend_{pot}": "0"})
    bad = dict(form, **{f"max_{setup.pots[None]}": "0"})
    assert client.post(url, data=bad).status_code == 422
    assert client.post(url, data=form).status_code == 303
    with database.session() as s:
        assert {p.kind for p in s.exec(select(PotVoting)).all()} == {"ordinal"}
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "voting.settings")).one()
    client.cookies.clear()
    sign_in(client, "voter@example.kg")
    ideas = setup.items[None]
    assert cast(client, setup.round.id, setup.pots[None], {ideas[1]: 1, ideas[0]: 2}
                ).status_code == 303
    client.cookies.clear()
    sign_in(client, "admin@example.kg")
    frozen = client.post(url, data=dict(form, csrf_token=csrf_of(client, url)))
    assert frozen.status_code == 303
    assert "no longer change" in client.get(url).text
