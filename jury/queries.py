"""Reading for the jury: which ideas are up for review, and what the jurors said."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from sqlmodel import Session, col, select

from contests.models import Round
from core.models import User
from ideas.models import Idea, IdeaStatus
from jury.models import JuryAssessment, JuryVerdict

#: Ideas that passed moderation, and those the jury already decided on (so the chair may
#: revise a verdict while the review is open).
REVIEW_STATUSES = (IdeaStatus.PUBLISHED, IdeaStatus.ADMITTED, IdeaStatus.NOT_FEASIBLE)


def in_review(round_: Round, idea: Idea) -> bool:
    """Published (or already decided by the jury), not hidden, and with enough supports
    when the round has a threshold."""
    return (idea.round_id == round_.id and idea.status in REVIEW_STATUSES
            and idea.hidden_at is None and idea.support_count >= round_.min_supports)


def pool(db: Session, round_: Round) -> list[Idea]:
    return list(db.exec(select(Idea).where(
        Idea.round_id == round_.id, col(Idea.status).in_(REVIEW_STATUSES),
        col(Idea.hidden_at).is_(None), col(Idea.support_count) >= round_.min_supports,
    ).order_by(col(Idea.reference))).all())


@dataclass
class Tally:
    """The jurors' latest assessments of one idea, summed up."""

    latest: list[tuple[JuryAssessment, User]] = field(default_factory=list)

    @property
    def feasible(self) -> int:
        return sum(1 for a, _u in self.latest if a.feasible)

    @property
    def not_feasible(self) -> int:
        return sum(1 for a, _u in self.latest if not a.feasible)

    @property
    def median_cost(self) -> int | None:
        costs = [a.final_cost for a, _u in self.latest if a.feasible]
        return int(median(costs)) if costs else None

    @property
    def mean_score(self) -> float | None:
        scores = [a.score for a, _u in self.latest if a.score is not None]
        return sum(scores) / len(scores) if scores else None

    def of(self, juror_id: int | None) -> JuryAssessment | None:
        return next((a for a, _u in self.latest if a.juror_id == juror_id), None)


def tallies(db: Session, idea_ids: list[int]) -> dict[int, Tally]:
    """Each juror's latest assessment per idea (earlier ones are history)."""
    out = {i: Tally() for i in idea_ids}
    if not idea_ids:
        return out
    rows = db.exec(select(JuryAssessment, User)
                   .join(User, col(User.id) == JuryAssessment.juror_id)
                   .where(col(JuryAssessment.idea_id).in_(idea_ids))
                   .order_by(col(JuryAssessment.created_at).desc(),
                             col(JuryAssessment.id).desc())).all()
    seen: set[tuple[int, int]] = set()
    for assessment, juror in rows:
        key = (assessment.idea_id, assessment.juror_id)
        if key not in seen:
            seen.add(key)
            out[assessment.idea_id].latest.append((assessment, juror))
    return out


def history(db: Session, idea_id: int) -> list[tuple[JuryAssessment, User]]:
    rows = db.exec(select(JuryAssessment, User)
                   .join(User, col(User.id) == JuryAssessment.juror_id)
                   .where(JuryAssessment.idea_id == idea_id)
                   .order_by(col(JuryAssessment.created_at).desc(),
                             col(JuryAssessment.id).desc())).all()
    return [(a, u) for a, u in rows]


def verdicts(db: Session, idea_id: int) -> list[tuple[JuryVerdict, User]]:
    rows = db.exec(select(JuryVerdict, User).join(User, col(User.id) == JuryVerdict.actor_id)
                   .where(JuryVerdict.idea_id == idea_id)
                   .order_by(col(JuryVerdict.at).desc(), col(JuryVerdict.id).desc())).all()
    return [(v, u) for v, u in rows]


def jury_members(db: Session) -> list[User]:
    from core.models import Role, RoleGrant

    return list(db.exec(select(User).join(RoleGrant, col(RoleGrant.user_id) == User.id)
                        .where(RoleGrant.role == Role.JURY)
                        .order_by(col(User.display_name))).all())
