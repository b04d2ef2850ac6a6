"""Two people confirming the same idea at once: one verdict wins, the other hears why."""

import threading

from sqlmodel import select
from starlette.testclient import TestClient

from contests.models import Round
from core.models import utcnow
from ideas.models import Idea, IdeaStatusChange
from ideas.services import IdeaError
from jury import services
from jury.models import JuryVerdict
from tests.helpers import csrf_of, make_user, sign_in
from tests.jury.factories import jury_world, published
from voting.models import BallotItem


def test_two_confirmations_at_once_make_one_verdict(database) -> None:
    w = jury_world(database)
    admin = make_user(database, "admin@example.kg", roles=("admin",))
    idea = published(database, w.setup, w.author.id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(who: int, admit: bool) -> None:
        barrier.wait()
        try:
            with database.session(write=True) as db:
                fresh = db.get(Idea, idea.id)
                round_ = db.get(Round, w.setup.round.id)
                if admit:
                    services.admit(db, round_, fresh, who, 500_000, idea.version, utcnow())
                else:
                    services.declare_not_feasible(db, round_, fresh, who, "No land",
                                                  idea.version, utcnow())
            outcomes.append("ok")
        except IdeaError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=act, args=(w.chair.id, True)),
               threading.Thread(target=act, args=(admin.id, False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with database.session() as db:
        verdict = db.exec(select(JuryVerdict)).one()
        status = db.get(Idea, idea.id).status
        assert status == ("admitted" if verdict.kind == "admit" else "not_feasible")
        assert len(db.exec(select(BallotItem)).all()) == (1 if status == "admitted" else 0)
        changes = db.exec(select(IdeaStatusChange).where(
            IdeaStatusChange.to_status != "published")).all()
        assert len(changes) == 1


def test_the_second_chair_gets_a_clear_message(app, database) -> None:
    w = jury_world(database)
    make_user(database, "admin@example.kg", roles=("admin",))
    idea = published(database, w.setup, w.author.id)
    chair = TestClient(app, follow_redirects=False)
    admin = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    sign_in(chair, "chair@example.kg")
    sign_in(admin, "admin@example.kg")
    path = f"/jury/ideas/{idea.reference}/confirm"
    first = chair.post(path, data={"csrf_token": csrf_of(chair, "/"), "kind": "admit",
                                   "final_cost": "1000", "version": str(idea.version)})
    assert first.status_code == 303
    late = admin.post(path, data={"csrf_token": csrf_of(admin, "/"), "kind": "not_feasible",
                                  "public_reason": "Too late", "version": str(idea.version)})
    assert late.status_code == 303
    assert late.headers["location"] == f"/jury/ideas/{idea.reference}"
    assert "This idea was changed in the meantime" in admin.get(late.headers["location"]).text
    with database.session() as db:
        assert db.get(Idea, idea.id).status == "admitted"
        assert len(db.exec(select(JuryVerdict)).all()) == 1
