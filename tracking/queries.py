"""Reading implementation tracking: which projects won (as the jury published them), where
each stands, its timeline and who follows it. Everything here is public, except that hidden
or no-longer-public ideas are left out everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from babel import Locale
from babel.numbers import format_percent
from sqlmodel import Session, col, func, select

from contests.models import Contest, Round
from core.i18n import get_locale
from core.models import District
from ideas import rules
from ideas.models import Idea
from results.models import Publication
from results.queries import idea_outcome, published_view
from tracking.models import ProjectFollow, ProjectPhoto, ProjectTracking, ProjectUpdate


@dataclass(frozen=True)
class Winner:
    """A project funded in a published result, with its tracking row (an unsaved one at
    version 0, planned and 0 %, until an admin first saves it)."""

    idea: Idea
    round: Round
    contest: Contest
    district: District | None
    cost: int
    tracking: ProjectTracking

    @property
    def percent(self) -> str:
        return percent(self.tracking.progress)


@dataclass(frozen=True)
class Entry:
    update: ProjectUpdate
    photos: list[ProjectPhoto] = field(default_factory=list)

    @property
    def percent(self) -> str:
        return percent(self.update.progress)


@dataclass(frozen=True)
class IdeaSection:
    """What the idea page shows about a winner's implementation."""

    winner: Winner
    entries: list[Entry]
    following: bool
    followers: int


def percent(progress: int) -> str:
    """A whole percentage in the reader's locale ("40%", "40 %")."""
    return format_percent(progress / 100, locale=Locale.parse(get_locale()))


def is_listed(idea: Idea) -> bool:
    return rules.is_public(idea) and idea.hidden_at is None


def _tracking_rows(s: Session, idea_ids: list[int]) -> dict[int, ProjectTracking]:
    if not idea_ids:
        return {}
    rows = s.exec(select(ProjectTracking).where(col(ProjectTracking.idea_id).in_(idea_ids)))
    return {t.idea_id: t for t in rows.all()}


def _default(idea: Idea) -> ProjectTracking:
    return ProjectTracking(idea_id=idea.id or 0, round_id=idea.round_id, version=0)


def winners(s: Session, status: str | None = None) -> list[Winner]:
    """Every funded project of every published round (newest publication first, then in the
    published order within each pot), optionally only those in `status`."""
    out: list[Winner] = []
    publications = s.exec(select(Publication).order_by(col(Publication.published_at).desc(),
                                                       col(Publication.id).desc())).all()
    districts = {d.id: d for d in s.exec(select(District)).all()}
    for publication in publications:
        view = published_view(s, publication.round_id)
        round_ = s.get(Round, publication.round_id)
        if view is None or round_ is None:
            continue
        contest = s.get(Contest, round_.contest_id)
        assert contest is not None
        rows = [r for pot in view.pots for r in pot.winners if is_listed(r.idea)]
        tracked = _tracking_rows(s, [r.idea.id or 0 for r in rows])
        for r in rows:
            district = districts.get(r.idea.district_id) if r.idea.district_id else None
            out.append(Winner(r.idea, round_, contest, district, r.cost,
                              tracked.get(r.idea.id or 0) or _default(r.idea)))
    if status is not None:
        out = [w for w in out if w.tracking.status == status]
    return out


def winner_of(s: Session, idea: Idea) -> Winner | None:
    """The idea as a winner, or None: not funded in its round's published result (or not
    published yet), or not public."""
    if not is_listed(idea):
        return None
    outcome = idea_outcome(s, idea)
    if outcome is None or not outcome.row.funded:
        return None
    round_ = s.get(Round, idea.round_id)
    assert round_ is not None
    contest = s.get(Contest, round_.contest_id)
    assert contest is not None
    district = s.get(District, idea.district_id) if idea.district_id else None
    tracking = _tracking_rows(s, [idea.id or 0]).get(idea.id or 0) or _default(idea)
    return Winner(idea, round_, contest, district, outcome.row.cost, tracking)


def timeline(s: Session, idea_id: int) -> list[Entry]:
    """The project's dated entries, newest first, each with its photos in order."""
    updates = s.exec(select(ProjectUpdate).where(ProjectUpdate.idea_id == idea_id)
                     .order_by(col(ProjectUpdate.created_at).desc(),
                               col(ProjectUpdate.id).desc())).all()
    photos: dict[int, list[ProjectPhoto]] = {}
    if updates:
        for photo in s.exec(select(ProjectPhoto).where(col(ProjectPhoto.update_id).in_(
                [u.id for u in updates])).order_by(col(ProjectPhoto.position))).all():
            photos.setdefault(photo.update_id, []).append(photo)
    return [Entry(u, photos.get(u.id or 0, [])) for u in updates]


def is_following(s: Session, user_id: int | None, idea_id: int) -> bool:
    if user_id is None:
        return False
    return s.exec(select(ProjectFollow.id).where(ProjectFollow.user_id == user_id,
                                                 ProjectFollow.idea_id == idea_id)
                  ).first() is not None


def follower_ids(s: Session, idea_id: int) -> list[int]:
    return list(s.exec(select(ProjectFollow.user_id).where(ProjectFollow.idea_id == idea_id)
                       .order_by(col(ProjectFollow.id))).all())


def follower_count(s: Session, idea_id: int) -> int:
    return int(s.exec(select(func.count()).select_from(ProjectFollow).where(
        ProjectFollow.idea_id == idea_id)).one())


def idea_section(s: Session, idea: Idea, user_id: int | None) -> IdeaSection | None:
    """The tracking section of an idea page, or None when the idea is not a winner."""
    winner = winner_of(s, idea)
    if winner is None:
        return None
    idea_id = idea.id or 0
    return IdeaSection(winner, timeline(s, idea_id), is_following(s, user_id, idea_id),
                       follower_count(s, idea_id))


def photo_by_name(s: Session, name: str) -> tuple[ProjectPhoto, Idea] | None:
    """The photo stored (or thumbnailed) under `name` and its project's idea."""
    photo = s.exec(select(ProjectPhoto).where(
        (ProjectPhoto.stored_name == name) | (ProjectPhoto.thumb_name == name))).first()
    if photo is None:
        return None
    update = s.get(ProjectUpdate, photo.update_id)
    idea = s.get(Idea, update.idea_id) if update else None
    return (photo, idea) if idea is not None else None
