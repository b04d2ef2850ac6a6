"""Jury writes: naming the chair, jurors' assessments, the chair's verdicts.

Every write here is also an audit entry in the same transaction. Services take `now` from
the caller. Status changes of ideas go through `ideas.services.change_status`, so the
public timeline, the idea's version and the author's notification stay in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from contests.models import Phase, Round, RoundPot
from contests.services import is_phase_open
from core.audit import record
from core.i18n import gettext as _
from core.models import Role, RoleGrant, User
from ideas.models import Idea, IdeaStatus
from ideas.notifications import Notice
from ideas.services import IdeaError, change_status
from jury.models import JuryAssessment, JuryVerdict, RoundJury, VerdictKind
from jury.queries import in_review
from voting.models import BallotItem

MAX_COST = 10**12
MAX_TEXT = 2000


class JuryError(IdeaError):
    """A jury action that cannot be done now; `message` is shown to the person."""


@dataclass(frozen=True)
class AssessmentInput:
    feasible: bool
    final_cost: int
    public_reason: str = ""
    score: int | None = None
    private_note: str = ""


def check_assessment(raw: dict[str, str], estimate: int
                     ) -> tuple[AssessmentInput | None, dict[str, str]]:
    """Validate a juror's form: the assessment, or field errors keyed by field name."""
    from core.web import as_int

    errors: dict[str, str] = {}
    feasible_raw = raw.get("feasible", "")
    if feasible_raw not in ("yes", "no"):
        errors["feasible"] = _("Say whether the idea is feasible.")
    reason = raw.get("public_reason", "")[:MAX_TEXT]
    if feasible_raw == "no" and not reason:
        errors["public_reason"] = _("Say publicly why the idea is not feasible.")
    cost_raw = "".join(ch for ch in raw.get("final_cost", "") if ch not in " \u00a0\u202f,.'")
    cost = estimate if not cost_raw else as_int(cost_raw, MAX_COST)
    if cost is None:
        errors["final_cost"] = _("Enter the cost as a whole number of som, for "
                                 "example 450000.")
    score_raw = raw.get("score", "")
    score = as_int(score_raw, 10) if score_raw else None
    if score_raw and score is None:
        errors["score"] = _("Enter a score from 0 to 10, or leave it empty.")
    if errors or cost is None:
        return None, errors
    return AssessmentInput(feasible=feasible_raw == "yes", final_cost=cost,
                           public_reason=reason, score=score,
                           private_note=raw.get("private_note", "")[:MAX_TEXT]), {}


def chair_of(db: Session, round_id: int) -> int | None:
    row = db.exec(select(RoundJury).where(RoundJury.round_id == round_id)).first()
    return row.chair_user_id if row else None


def is_jury_member(db: Session, user_id: int) -> bool:
    return db.exec(select(RoleGrant).where(RoleGrant.user_id == user_id,
                                           RoleGrant.role == Role.JURY)).first() is not None


def set_chair(db: Session, round_: Round, chair_id: int | None, actor_id: int,
              now: datetime) -> None:
    """Name a jury member as the chair of the round's jury (None: no chair).
    Raises JuryError (422) when the person is not a jury member."""
    assert round_.id is not None
    if chair_id is not None and (db.get(User, chair_id) is None
                                 or not is_jury_member(db, chair_id)):
        raise JuryError(_("Choose a jury member as chair."), 422)
    row = db.exec(select(RoundJury).where(RoundJury.round_id == round_.id)).first()
    row = row or RoundJury(round_id=round_.id)
    before = row.chair_user_id
    row.chair_user_id, row.updated_at = chair_id, now
    db.add(row)
    record(db, actor_id, "jury.chair", "round", round_.id, now, before=before, after=chair_id)


def check_open(db: Session, round_: Round, now: datetime) -> None:
    """Raises JuryError (403) unless the round is in its jury-review phase."""
    if not is_phase_open(db, round_, Phase.JURY_REVIEW, now):
        raise JuryError(_("The jury review of this round is closed."), 403)


def assess(db: Session, round_: Round, idea: Idea, juror_id: int, data: AssessmentInput,
           now: datetime) -> JuryAssessment:
    """Append a juror's assessment; their earlier ones stay. Raises JuryError (403) outside
    the jury-review phase and (409) when the idea is not up for review."""
    check_open(db, round_, now)
    if not in_review(round_, idea):
        raise JuryError(_("This idea is not up for jury review."))
    assert idea.id is not None and round_.id is not None
    row = JuryAssessment(round_id=round_.id, idea_id=idea.id, juror_id=juror_id,
                         feasible=data.feasible, public_reason=data.public_reason,
                         final_cost=data.final_cost, score=data.score,
                         private_note=data.private_note, created_at=now)
    db.add(row)
    record(db, juror_id, "jury.assess", "idea", idea.reference, now, feasible=data.feasible,
           final_cost=data.final_cost, score=data.score)
    return row


def pot_for(db: Session, idea: Idea) -> RoundPot:
    """The idea's pot: its district's, or the city-wide one when the idea is city-wide or
    its district has no pot. Raises JuryError when the round has no such pot."""
    pots = db.exec(select(RoundPot).where(RoundPot.round_id == idea.round_id)).all()
    by_district = {p.district_id: p for p in pots}
    pot = by_district.get(idea.district_id) or by_district.get(None)
    if pot is None:
        raise JuryError(_("The round has no budget for this idea's district and no "
                          "city-wide budget."))
    return pot


def can_confirm(db: Session, round_id: int, user_id: int, roles: frozenset[str]) -> bool:
    return Role.ADMIN in roles or (Role.JURY in roles and chair_of(db, round_id) == user_id)


def admit(db: Session, round_: Round, idea: Idea, actor_id: int, final_cost: int,
          expected_version: int, now: datetime) -> list[Notice]:
    """Admit the idea to the ballot of its pot at `final_cost` (an existing ballot item is
    updated). Raises JuryError outside the phase or for ideas not up for review, and
    StaleIdea when someone changed the idea since `expected_version`."""
    check_open(db, round_, now)
    if not in_review(round_, idea) or final_cost < 0:
        raise JuryError(_("This idea is not up for jury review."))
    assert idea.id is not None and round_.id is not None
    pot = pot_for(db, idea)
    notices = change_status(db, idea, IdeaStatus.ADMITTED, actor_id, expected_version, now)
    item = db.exec(select(BallotItem).where(BallotItem.round_id == round_.id,
                                            BallotItem.idea_id == idea.id)).first()
    if item is None:
        last = db.exec(select(func.max(BallotItem.position))
                       .where(BallotItem.round_id == round_.id)).one()
        item = BallotItem(round_id=round_.id, idea_id=idea.id, pot_id=pot.id or 0,
                          position=(last + 1) if last is not None else 0)
    item.pot_id, item.cost = pot.id or 0, final_cost
    db.add(item)
    db.add(JuryVerdict(round_id=round_.id, idea_id=idea.id, actor_id=actor_id,
                       kind=VerdictKind.ADMIT, final_cost=final_cost, pot_id=pot.id, at=now))
    record(db, actor_id, "jury.admit", "idea", idea.reference, now, final_cost=final_cost,
           pot_id=pot.id)
    return notices


def declare_not_feasible(db: Session, round_: Round, idea: Idea, actor_id: int, reason: str,
                         expected_version: int, now: datetime) -> list[Notice]:
    """Declare the idea not feasible with a public reason (shown on its timeline); it leaves
    the ballot if it was on it. Raises JuryError (422 without a reason) and StaleIdea."""
    check_open(db, round_, now)
    if not reason:
        raise JuryError(_("Say publicly why the idea is not feasible."), 422)
    if not in_review(round_, idea):
        raise JuryError(_("This idea is not up for jury review."))
    assert idea.id is not None and round_.id is not None
    notices = change_status(db, idea, IdeaStatus.NOT_FEASIBLE, actor_id, expected_version,
                            now, public_note=reason)
    for item in db.exec(select(BallotItem).where(BallotItem.round_id == round_.id,
                                                 col(BallotItem.idea_id) == idea.id)).all():
        db.delete(item)
    db.add(JuryVerdict(round_id=round_.id, idea_id=idea.id, actor_id=actor_id,
                       kind=VerdictKind.NOT_FEASIBLE, public_reason=reason, at=now))
    record(db, actor_id, "jury.not_feasible", "idea", idea.reference, now, reason=reason)
    return notices
