"""Races: one voter casting 50 times at once, many voters re-voting at once, two tabs filling
one basket. Threads with their own sessions, as parallel requests would run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import func, select

from tests.voting.factories import SECRET, cast_as, make_voter, make_voting_round, online
from voting import ballots
from voting.models import Ballot, BallotDraft, BallotLogEntry, Participation
from voting.queries import pot_ballot
from voting.services import ballot_key, edit_draft, pseudonym
from voting.verify import verify_round


def _count(database, model, *where) -> int:
    with database.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_fifty_simultaneous_casts_by_one_voter_leave_one_current_ballot(database) -> None:
    setup = make_voting_round(database, kind="approval", max_choices=2)
    voter = online(make_voter(database, district=setup.districts[0]))
    ideas, pot = setup.items[None], setup.pots[None]
    choices = [{ideas[n % 3]: 1} for n in range(50)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        receipts = list(pool.map(lambda m: cast_as(database, setup.round, pot, voter, m),
                                 choices))
    assert len({r.entry_hash for r in receipts}) == 50
    assert _count(database, Ballot, Ballot.is_current.is_(True)) == 1  # type: ignore[union-attr]
    assert _count(database, Participation) == 1
    with database.session() as s:
        verdict = verify_round(s, setup.round.id)
        last = s.exec(select(Ballot).where(Ballot.is_current.is_(True))).one()  # type: ignore[union-attr]
    assert verdict.ok and verdict.count == 50
    assert last.log_seq == 50  # the latest cast is the one that counts


def test_parallel_re_votes_of_many_voters_keep_one_ballot_each_and_a_sound_chain(
        database) -> None:
    setup = make_voting_round(database, kind="cumulative", points_total=5,
                              max_points_per_project=3)
    voters = [online(make_voter(database, f"v{n}@example.kg", district=setup.districts[n % 2]))
              for n in range(8)]
    jobs = [(v, pot_key) for v in voters for pot_key in ("own", None) for _ in range(4)]

    def run(job):
        voter, pot_key = job
        key = next(i for i, d in enumerate(setup.districts) if d.id == voter.district_id) \
            if pot_key == "own" else None
        ideas = setup.items[key]
        return cast_as(database, setup.round, setup.pots[key], voter, {ideas[0]: 2, ideas[1]: 3})

    with ThreadPoolExecutor(max_workers=12) as pool:
        receipts = list(pool.map(run, jobs))
    assert len(receipts) == 64
    assert _count(database, Ballot, Ballot.is_current.is_(True)) == 16  # type: ignore[union-attr]
    assert _count(database, BallotLogEntry) == 64
    # No entry names the one it replaces (a receipt holder must not learn of a re-vote).
    assert _count(database, BallotLogEntry, BallotLogEntry.supersedes.is_not(None)) == 0  # type: ignore[union-attr]
    with database.session() as s:
        assert verify_round(s, setup.round.id).ok


def test_two_tabs_adding_projects_at_once_never_go_over_the_budget(database) -> None:
    setup = make_voting_round(database, kind="knapsack")
    voter = online(make_voter(database, district=setup.districts[0]))
    alias = pseudonym(ballot_key(SECRET), setup.round.id, voter)
    ideas = setup.items[0]  # 400k + 300k + 500k + 250k against 1,000,000

    def add(idea: int) -> None:
        with database.session(write=True) as s:
            ballot = pot_ballot(s, setup.round.id, setup.pots[0])
            assert ballot is not None
            edit_draft(s, ballot, alias, "add", idea, 0, __import__("core.models").models.utcnow())

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, ideas * 5))
    with database.session() as s:
        draft = s.exec(select(BallotDraft)).one()
        ballot = pot_ballot(s, setup.round.id, setup.pots[0])
    assert ballot is not None
    marks = ballots.loads(draft.content)
    assert marks and ballots.spent(ballot.rules, marks) <= 1_000_000
