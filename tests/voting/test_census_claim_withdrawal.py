"""A census claim that links an online ballot and a paper ballot of one person, both counted
before the claim: the channel that counted first keeps its ballot, the other is withdrawn by
an appended log entry that names nothing, and the log and the recount stay valid."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta

from sqlmodel import select

from contests.models import Phase, RoundPhase
from core.models import utcnow
from core.settings import ROOT
from tests.voting.factories import make_voting_round
from tests.voting.test_paper_census import KEY, Person, _current_ballots, _staff
from voting.models import Ballot, Channel, Participation
from voting.services import Voter, pseudonym
from voting.verify import export, verify_round


def _alias(person: Person, channel: Channel) -> str:
    from core.accounts.services import census_hash

    voter = (Voter(Channel.ONLINE, person_id=person.user.id) if channel == Channel.ONLINE
             else Voter(Channel.PAPER, id_hash=census_hash("", person.number)))
    return pseudonym(KEY, person.setup.round.id, voter)


def _counting_alias(database, person: Person) -> str:
    aliases = {_alias(person, Channel.ONLINE), _alias(person, Channel.PAPER)}
    found = [b.pseudonym for b in _current_ballots(database) if b.pseudonym in aliases]
    assert len(found) == 1
    return found[0]


def _close(database, setup) -> None:
    with database.session(write=True) as s:
        phase = s.exec(select(RoundPhase).where(RoundPhase.round_id == setup.round.id,
                                                RoundPhase.phase == Phase.VOTING.value)).one()
        phase.ends_at = utcnow() - timedelta(seconds=1)
        s.add(phase)


def test_online_first_keeps_the_online_ballot_and_withdraws_the_paper_one(database,
                                                                          tmp_path) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    person = Person(database, setup, 1)
    for step in ("verify", "online", "paper1", "paper2", "claim"):
        person.run(step, staff)
    assert _counting_alias(database, person) == _alias(person, Channel.ONLINE)
    with database.session() as s:
        assert verify_round(s, setup.round.id).ok
        parts = s.exec(select(Participation)).all()
        assert [(p.channel, p.person_id) for p in parts] == [(Channel.ONLINE, person.user.id)]
        data = export(s, setup.round.id, utcnow())
    # three entries: online ballot, paper ballot, the withdrawal (naming nothing)
    assert [e["kind"] for e in data["entries"]] == ["ballot", "ballot", "withdrawal"]
    assert all(e["supersedes"] is None for e in data["entries"])
    assert "counts" not in data["entries"][0]  # open: nobody learns which entry counts
    # the online voter may still change their vote; a new paper for the ID is refused
    person.run("online", staff)
    assert person.counted() == 1
    person.serial = "P-again"
    person.run("paper1", staff)
    person.run("paper2", staff)
    assert person.counted() == 1
    _close(database, setup)
    with database.session() as s:
        assert verify_round(s, setup.round.id).ok
        closed = export(s, setup.round.id, utcnow())
    assert closed["counted"] == 1 == sum(e["counts"] for e in closed["entries"])
    path = tmp_path / "log.json"
    path.write_text(json.dumps(closed))
    run = subprocess.run([sys.executable, str(ROOT / "docs" / "verify_log.py"), str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "1 of 4 entries count" in run.stdout, run.stdout


def test_paper_first_keeps_the_paper_ballot_and_the_account_cannot_vote_online_again(
        database) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    person = Person(database, setup, 2)
    for step in ("verify", "paper1", "paper2", "online", "claim"):
        person.run(step, staff)
    assert _counting_alias(database, person) == _alias(person, Channel.PAPER)
    person.run("online", staff)  # refused: the paper ballot counts
    assert _counting_alias(database, person) == _alias(person, Channel.PAPER)
    with database.session() as s:
        assert verify_round(s, setup.round.id).ok
        parts = s.exec(select(Participation)).all()
        assert [p.channel for p in parts] == [Channel.PAPER]
        # the withdrawn ballot is kept (it was in the log), it just no longer counts
        assert len(s.exec(select(Ballot)).all()) == 2


def test_a_claim_after_voting_closed_withdraws_nothing(database) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    person = Person(database, setup, 3)
    for step in ("verify", "online", "paper1", "paper2"):
        person.run(step, staff)
    _close(database, setup)
    person.run("claim", staff)
    assert person.counted() == 2  # the count was final when voting closed (docs/privacy.md)
    with database.session() as s:
        assert verify_round(s, setup.round.id).ok


def test_the_check_finds_a_withdrawal_entry_for_no_ballot(database) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    person = Person(database, setup, 4)
    for step in ("verify", "online", "paper1", "paper2", "claim"):
        person.run(step, staff)
    from voting.withdrawal import _append

    with database.session(write=True) as s:
        _append(s, setup.round.id, "f" * 64, utcnow())
    with database.session() as s:
        verdict = verify_round(s, setup.round.id)
    assert not verdict.ok and "entry 4 has no stored ballot" in verdict.reason


def _race(jobs) -> None:
    barrier = threading.Barrier(len(jobs))

    def go(job):
        barrier.wait()
        job()

    threads = [threading.Thread(target=go, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_a_census_claim_and_the_second_paper_reading_at_once_leave_one_ballot(
        database) -> None:
    """Run on PostgreSQL too (TEST_DATABASE_URL): the claim and the reading lock the census
    entry, then the round, in that order."""
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    people = [Person(database, setup, n) for n in range(10, 16)]
    for person in people:
        for step in ("verify", "online", "paper1"):
            person.run(step, staff)
    for person in people:
        _race([lambda p=person: p.run("claim", staff),
               lambda p=person: p.run("paper2", staff)])
    assert [p.counted() for p in people] == [1] * len(people)
    with database.session() as s:
        assert verify_round(s, setup.round.id).ok
        assert len(s.exec(select(Participation)).all()) == len(people)


def test_a_census_claim_and_an_online_cast_at_once_leave_one_ballot(database) -> None:
    """The online cast builds its voter before it locks the round; it reads the census claim
    again under the lock, so a claim that committed in between is seen."""
    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    people = [Person(database, setup, n) for n in range(20, 26)]
    for person in people:
        for step in ("verify", "paper1", "paper2"):
            person.run(step, staff)
    for person in people:
        _race([lambda p=person: p.run("claim", staff),
               lambda p=person: p.run("online", staff)])
    assert [p.counted() for p in people] == [1] * len(people)
    with database.session() as s:
        assert verify_round(s, setup.round.id).ok


def test_the_voter_sees_why_a_withdrawn_receipt_no_longer_counts_and_a_holder_does_not(
        client, database) -> None:
    from tests.helpers import sign_in
    from voting.models import BallotLogEntry

    setup = make_voting_round(database, kind="approval", verified_only=True)
    staff = _staff(database)
    person = Person(database, setup, 5)
    for step in ("verify", "paper1", "paper2", "online", "claim"):
        person.run(step, staff)
    with database.session() as s:
        online = s.exec(select(Ballot).where(
            Ballot.pseudonym == _alias(person, Channel.ONLINE))).one()
        code = s.exec(select(BallotLogEntry.entry_hash).where(
            BallotLogEntry.seq == online.log_seq)).one()
    public = client.get(f"/receipts?code={code}")
    assert "published when voting closes" in public.text and "withdrawn" not in public.text
    sign_in(client, "p5@example.kg")
    own = client.get(f"/receipts/{code}", headers={"Accept-Language": "en"})
    assert own.status_code == 200 and "on the other channel" in own.text
    _close(database, setup)
    after = client.get(f"/receipts?code={code}", headers={"Accept-Language": "en"})
    assert "counted first, and it was withdrawn" in after.text
