"""Jurors assess published ideas; the chair admits them to the ballot of their pot or
declares them not feasible, in public, with everything in the audit log."""

from sqlmodel import select
from starlette.testclient import TestClient

from contests.models import RoundPot
from core.models import AuditEntry
from ideas.models import Idea, IdeaStatusChange, Notification
from jury.models import JuryAssessment, JuryVerdict
from tests.helpers import HOSTILE, csrf_of, make_user, set_phase, sign_in
from tests.jury.factories import jury_world, published
from voting.models import BallotItem

EN = {"Accept-Language": "en"}


def post(client: TestClient, path: str, **data: str):
    token = csrf_of(client, "/jury")
    return client.post(path, data={"csrf_token": token, **data}, headers=EN)


def assess(client: TestClient, idea: Idea, **data: str):
    return post(client, f"/jury/ideas/{idea.reference}/assess", **data)


def confirm(client: TestClient, idea: Idea, version: int, **data: str):
    return post(client, f"/jury/ideas/{idea.reference}/confirm", version=str(version), **data)


def test_jurors_assess_and_their_latest_assessment_counts(app, database) -> None:
    w = jury_world(database)
    idea = published(database, w.setup, w.author.id)
    juror = TestClient(app, follow_redirects=False)
    sign_in(juror, "juror@example.kg")
    chair = TestClient(app, follow_redirects=False)
    sign_in(chair, "chair@example.kg")
    assert assess(juror, idea, feasible="yes", final_cost="500 000", score="7",
                  private_note="Check the soil").status_code == 303
    assert assess(juror, idea, feasible="yes", final_cost="520000", score="8",
                  private_note=f"Soil checked {HOSTILE}").status_code == 303
    assert assess(chair, idea, feasible="no", public_reason="Private land").status_code == 303
    with database.session() as db:
        rows = db.exec(select(JuryAssessment).order_by(JuryAssessment.id)).all()
        assert [(r.juror_id, r.final_cost) for r in rows] == [
            (w.juror.id, 500_000), (w.juror.id, 520_000), (w.chair.id, 450_000)]
        assert db.exec(select(AuditEntry.action)).all() == ["jury.assess"] * 3
    page = chair.get(f"/jury/ideas/{idea.reference}", headers=EN).text
    assert "Feasible: 1 · Not feasible: 1" in page
    assert "Soil checked &lt;script&gt;" in page
    assert HOSTILE not in page
    listing = chair.get(f"/jury/rounds/{w.setup.round.id}", headers=EN).text
    assert idea.reference in listing and HOSTILE not in listing


def test_a_juror_must_give_a_public_reason_when_not_feasible(client, database) -> None:
    w = jury_world(database)
    idea = published(database, w.setup, w.author.id)
    sign_in(client, "juror@example.kg")
    response = assess(client, idea, feasible="no", final_cost="-5", score="11")
    assert response.status_code == 422
    assert "Say publicly why the idea is not feasible." in response.text
    assert "Enter a score from 0 to 10" in response.text
    with database.session() as db:
        assert db.exec(select(JuryAssessment)).all() == []


def test_the_chair_admits_an_idea_to_the_ballot_of_its_district(app, client, database) -> None:
    w = jury_world(database)
    district = w.setup.districts[1]
    idea = published(database, w.setup, w.author.id, district_id=district.id)
    sign_in(client, "chair@example.kg")
    response = confirm(client, idea, idea.version, kind="admit", final_cost="600 000")
    assert response.status_code == 303
    with database.session() as db:
        item = db.exec(select(BallotItem)).one()
        pot = db.get(RoundPot, item.pot_id)
        assert (item.idea_id, item.cost, pot.district_id) == (idea.id, 600_000, district.id)
        assert db.get(Idea, idea.id).status == "admitted"
        verdict = db.exec(select(JuryVerdict)).one()
        assert (verdict.kind, verdict.actor_id, verdict.final_cost) == (
            "admit", w.chair.id, 600_000)
        assert "jury.admit" in db.exec(select(AuditEntry.action)).all()
        assert db.exec(select(Notification).where(
            Notification.user_id == w.author.id)).first() is not None
    public = TestClient(app).get(f"/ideas/{idea.reference}", headers=EN)
    assert public.status_code == 200
    assert "Admitted to the ballot" in public.text
    # Admitting again with another cost updates the one ballot item.
    with database.session() as db:
        version = db.get(Idea, idea.id).version
    assert confirm(client, idea, version, kind="admit", final_cost="650000").status_code == 303
    with database.session() as db:
        assert [i.cost for i in db.exec(select(BallotItem)).all()] == [650_000]


def test_a_city_wide_idea_goes_to_the_city_wide_pot(client, database) -> None:
    w = jury_world(database)
    idea = published(database, w.setup, w.author.id, district_id=None, cost=90_000)
    sign_in(client, "chair@example.kg")
    assert confirm(client, idea, idea.version, kind="admit", final_cost="90000").status_code \
        == 303
    with database.session() as db:
        item = db.exec(select(BallotItem)).one()
        assert db.get(RoundPot, item.pot_id).district_id is None


def test_not_feasible_with_a_reason_is_shown_on_the_idea_page(app, client, database) -> None:
    w = jury_world(database)
    idea = published(database, w.setup, w.author.id)
    sign_in(client, "chair@example.kg")
    missing = confirm(client, idea, idea.version, kind="not_feasible", public_reason="")
    assert missing.status_code == 422
    reason = f"The land belongs to the republic {HOSTILE}"
    done = confirm(client, idea, idea.version, kind="not_feasible", public_reason=reason)
    assert done.status_code == 303
    with database.session() as db:
        assert db.get(Idea, idea.id).status == "not_feasible"
        change = db.exec(select(IdeaStatusChange).where(
            IdeaStatusChange.to_status == "not_feasible")).one()
        assert change.public_note == reason
        assert "jury.not_feasible" in db.exec(select(AuditEntry.action)).all()
        assert db.exec(select(BallotItem)).all() == []
    page = TestClient(app).get(f"/ideas/{idea.reference}", headers=EN).text
    assert "Not feasible" in page
    assert "The land belongs to the republic &lt;script&gt;" in page
    assert HOSTILE not in page


def test_ideas_below_the_support_threshold_or_hidden_are_not_up_for_review(client,
                                                                         database) -> None:
    from contests.models import Round
    from core.models import utcnow

    w = jury_world(database)
    with database.session(write=True) as db:
        round_ = db.get(Round, w.setup.round.id)
        round_.min_supports = 5
        db.add(round_)
    few = published(database, w.setup, w.author.id, title="Few supports", supports=4)
    many = published(database, w.setup, w.author.id, title="Many supports", supports=5)
    hidden = published(database, w.setup, w.author.id, title="Hidden one", supports=9)
    with database.session(write=True) as db:
        row = db.get(Idea, hidden.id)
        row.hidden_at, row.hidden_reason = utcnow(), "spam"
        db.add(row)
    sign_in(client, "juror@example.kg")
    listing = client.get(f"/jury/rounds/{w.setup.round.id}").text
    assert many.reference in listing
    assert few.reference not in listing and hidden.reference not in listing
    assert client.get(f"/jury/ideas/{few.reference}").status_code == 404
    assert assess(client, hidden, feasible="yes").status_code == 404


def test_outside_the_jury_review_phase_nothing_can_be_assessed(client, database) -> None:
    w = jury_world(database)
    idea = published(database, w.setup, w.author.id)
    set_phase(database, w.setup.round.id, "voting")
    sign_in(client, "chair@example.kg")
    assert assess(client, idea, feasible="yes").status_code == 403
    assert confirm(client, idea, idea.version, kind="admit", final_cost="1").status_code == 403
    page = client.get(f"/jury/ideas/{idea.reference}", headers=EN).text
    assert "The jury review of this round is closed." in page
    with database.session() as db:
        assert db.exec(select(JuryAssessment)).all() == []
        assert db.get(Idea, idea.id).status == "published"


def test_an_admin_names_the_chair_and_only_a_jury_member_can_be_chair(app, database) -> None:
    w = jury_world(database)
    make_user(database, "admin@example.kg", roles=("admin",))
    resident = make_user(database, "someone@example.kg")
    admin = TestClient(app, follow_redirects=False)
    sign_in(admin, "admin@example.kg")
    path = f"/admin/rounds/{w.setup.round.id}/jury"
    assert HOSTILE not in admin.get(path).text
    refused = admin.post(path, data={"csrf_token": csrf_of(admin, path),
                                     "chair": str(resident.id)}, headers=EN)
    assert refused.status_code == 422
    assert "Choose a jury member as chair." in refused.text
    done = admin.post(path, data={"csrf_token": csrf_of(admin, path),
                                  "chair": str(w.juror.id)})
    assert done.status_code == 303
    with database.session() as db:
        from jury.services import chair_of

        assert chair_of(db, w.setup.round.id) == w.juror.id
        assert db.exec(select(AuditEntry.action)).all() == ["jury.chair"]


def test_an_idea_from_a_district_without_a_budget_goes_to_the_city_wide_pot(client,
                                                                            database) -> None:
    w = jury_world(database)
    district = w.setup.districts[0]
    with database.session(write=True) as db:
        db.delete(db.exec(select(RoundPot).where(RoundPot.district_id == district.id)).one())
    idea = published(database, w.setup, w.author.id, district_id=district.id)
    sign_in(client, "chair@example.kg")
    assert confirm(client, idea, idea.version, kind="admit", final_cost="1").status_code == 303
    with database.session() as db:
        item = db.exec(select(BallotItem)).one()
        assert db.get(RoundPot, item.pot_id).district_id is None


def test_a_juror_who_is_not_chair_cannot_confirm(client, database) -> None:
    w = jury_world(database)
    idea = published(database, w.setup, w.author.id)
    sign_in(client, "juror@example.kg")
    page = client.get(f"/jury/ideas/{idea.reference}", headers=EN).text
    assert "Admit to the ballot" not in page
    assert confirm(client, idea, idea.version, kind="admit", final_cost="1").status_code == 403
    with database.session() as db:
        assert db.get(Idea, idea.id).status == "published"
        assert db.exec(select(BallotItem)).all() == []
