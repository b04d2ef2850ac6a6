"""Setting up contests, rounds, their schedules and budgets, and categories.

Every change goes through here and is appended to the audit log in the same transaction.
Services take `now` from the endpoint and never read the clock.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, select

from contests.forms import CategoryData, ContestData, Pots, RoundData, Schedule
from contests.models import PHASE_ORDER, Category, Contest, Phase, Round, RoundPhase, RoundPot
from core.audit import record

Row = TypeVar("Row", bound=SQLModel)


class PotsLocked(Exception):
    """The round's voting has begun (or ballots exist): its budgets can no longer change,
    since cast ballots were filled against them."""


class Taken(Exception):
    """A value that must be unique is already taken, perhaps by another admin a moment ago.
    `field` names the form field to blame."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _flush_unique(s: Session, field: str) -> None:
    """Flush, turning a unique-constraint violation into `Taken` (the caller's transaction
    is then unusable and is rolled back by the session's context manager)."""
    try:
        s.flush()
    except IntegrityError as exc:
        raise Taken(field) from exc


def _lock(s: Session, model: type[Row], row_id: int | None) -> Row:
    """Re-read a row with FOR UPDATE so that two admins editing the same round or contest
    take turns on PostgreSQL (SQLite writers already take turns: BEGIN IMMEDIATE)."""
    pk: Any = model.id  # type: ignore[attr-defined]
    return s.exec(select(model).where(pk == row_id).with_for_update()).one()


def _changes(row: SQLModel, values: dict[str, Any]) -> dict[str, Any]:
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    return changed


def create_contest(s: Session, data: ContestData, actor_id: int | None,
                   now: datetime) -> Contest:
    """Create a contest. Raises `Taken("slug")` when the short name is in use."""
    contest = Contest(**asdict(data), created_at=now)
    s.add(contest)
    _flush_unique(s, "slug")
    assert contest.id is not None
    record(s, actor_id, "contest.create", "contest", contest.id, now, **asdict(data))
    return contest


def update_contest(s: Session, contest: Contest, data: ContestData, actor_id: int | None,
                   now: datetime) -> None:
    """Save a contest's fields; the audit entry lists only what changed.
    Raises `Taken("slug")` when the new short name is in use."""
    changed = _changes(contest, asdict(data))
    if not changed:
        return
    s.add(contest)
    _flush_unique(s, "slug")
    assert contest.id is not None
    record(s, actor_id, "contest.update", "contest", contest.id, now, **changed)


def create_round(s: Session, contest: Contest, title: str, actor_id: int | None,
                 now: datetime) -> Round:
    """Add a round numbered one past the contest's last round.
    Raises `Taken("round_title")` if another round took the number meanwhile."""
    locked = _lock(s, Contest, contest.id)
    assert locked.id is not None
    last = s.exec(select(func.max(Round.number)).where(Round.contest_id == locked.id)).one()
    round_ = Round(contest_id=locked.id, number=(last or 0) + 1, title=title, created_at=now)
    s.add(round_)
    _flush_unique(s, "round_title")
    assert round_.id is not None
    record(s, actor_id, "round.create", "round", round_.id, now, contest_id=locked.id,
           number=round_.number, title=title)
    return round_


def update_round(s: Session, round_: Round, data: RoundData, actor_id: int | None,
                 now: datetime) -> None:
    """Save a round's settings; the audit entry lists only what changed."""
    changed = _changes(round_, asdict(data))
    if not changed:
        return
    s.add(round_)
    assert round_.id is not None
    record(s, actor_id, "round.update", "round", round_.id, now, **changed)


def set_phases(s: Session, round_: Round, schedule: Schedule, actor_id: int | None,
               now: datetime) -> None:
    """Make the round's phases exactly `schedule` (already validated: each start < end, in
    order, no overlap). Phases left out are removed; kept phases keep their rows."""
    locked = _lock(s, Round, round_.id)
    assert locked.id is not None
    existing = {p.phase: p for p in s.exec(
        select(RoundPhase).where(RoundPhase.round_id == locked.id)).all()}
    for phase in PHASE_ORDER:
        row = existing.pop(phase.value, None)
        if phase not in schedule:
            if row is not None:
                s.delete(row)
            continue
        starts_at, ends_at = schedule[phase]
        if row is None:
            row = RoundPhase(round_id=locked.id, phase=phase.value, starts_at=starts_at,
                             ends_at=ends_at)
        else:
            row.starts_at, row.ends_at = starts_at, ends_at
        s.add(row)
    for stray in existing.values():  # a phase name no longer in Phase
        s.delete(stray)
    s.flush()
    record(s, actor_id, "round.phases", "round", locked.id, now, phases={
        str(phase): [start.isoformat(), end.isoformat()]
        for phase, (start, end) in schedule.items()})


def pots_locked(s: Session, round_id: int, now: datetime) -> bool:
    """True once the round's voting phase has begun or any ballot is in its log: from then on
    the budgets are fixed, like the other ballot settings."""
    from voting.models import BallotLogEntry  # voting builds on contests, not the reverse

    started = s.exec(select(func.count()).select_from(RoundPhase).where(
        RoundPhase.round_id == round_id, RoundPhase.phase == Phase.VOTING.value,
        col(RoundPhase.starts_at) <= now)).one()
    cast = s.exec(select(func.count()).select_from(BallotLogEntry).where(
        BallotLogEntry.round_id == round_id)).one()
    return started > 0 or cast > 0


def set_pots(s: Session, round_: Round, pots: Pots, actor_id: int | None,
             now: datetime) -> None:
    """Make the round's budgets exactly `pots` (som per district id; None is city-wide).
    Districts left out do not take part. The database allows several city-wide rows (NULL
    is never equal to NULL), so the round lock is what keeps it to one.
    Raises PotsLocked once voting has begun (nothing is written then)."""
    locked = _lock(s, Round, round_.id)
    assert locked.id is not None
    if pots_locked(s, locked.id, now):
        raise PotsLocked()
    rows = list(s.exec(select(RoundPot).where(RoundPot.round_id == locked.id)
                       .order_by(col(RoundPot.id))).all())
    kept: dict[int | None, RoundPot] = {}
    for row in rows:
        if row.district_id in pots and row.district_id not in kept:
            kept[row.district_id] = row
        else:
            s.delete(row)
    s.flush()
    for district_id, budget in pots.items():
        row = kept.get(district_id) or RoundPot(round_id=locked.id, district_id=district_id)
        row.budget = budget
        s.add(row)
    s.flush()
    record(s, actor_id, "round.pots", "round", locked.id, now, pots={
        "city" if district_id is None else str(district_id): budget
        for district_id, budget in pots.items()})


def create_category(s: Session, data: CategoryData, actor_id: int | None,
                    now: datetime) -> Category:
    """Raises `Taken("slug")` when the short name is in use."""
    category = Category(**asdict(data))
    s.add(category)
    _flush_unique(s, "slug")
    assert category.id is not None
    record(s, actor_id, "category.create", "category", category.id, now, **asdict(data))
    return category


def update_category(s: Session, category: Category, data: CategoryData,
                    actor_id: int | None, now: datetime) -> None:
    """Raises `Taken("slug")` when the new short name is in use."""
    changed = _changes(category, asdict(data))
    if not changed:
        return
    s.add(category)
    _flush_unique(s, "slug")
    assert category.id is not None
    record(s, actor_id, "category.update", "category", category.id, now, **changed)
