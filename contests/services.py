"""Reading contests and rounds, and which phase a round is in."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from contests.models import Contest, Phase, Round, RoundPhase


def current_phase(session: Session, round_: Round, now: datetime) -> RoundPhase | None:
    """The phase whose [start, end) contains `now`, or None between phases."""
    return session.exec(
        select(RoundPhase).where(
            RoundPhase.round_id == round_.id,
            col(RoundPhase.starts_at) <= now,
            col(RoundPhase.ends_at) > now,
        )
    ).first()


def is_phase_open(session: Session, round_: Round, phase: Phase, now: datetime) -> bool:
    found = current_phase(session, round_, now)
    return found is not None and found.phase == phase


def list_rounds(session: Session) -> list[tuple[Contest, Round]]:
    rows = session.exec(
        select(Contest, Round)
        .join(Round, col(Round.contest_id) == Contest.id)
        .order_by(col(Contest.year).desc(), col(Round.number))
    ).all()
    return [(c, r) for c, r in rows]


def phases_of(session: Session, round_: Round) -> list[RoundPhase]:
    return list(
        session.exec(
            select(RoundPhase)
            .where(RoundPhase.round_id == round_.id)
            .order_by(col(RoundPhase.starts_at))
        ).all()
    )
