"""Who may do what with an idea, as small named predicates. Each takes plain values and `now`
so endpoints, services and templates ask the same question the same way."""

from __future__ import annotations

from dataclasses import dataclass

from contests.models import Phase, Round
from core.models import Role, User
from ideas.models import EDITABLE_STATUSES, PUBLIC_STATUSES, Idea, IdeaStatus

STAFF = frozenset({Role.MODERATOR, Role.ADMIN})


@dataclass(frozen=True)
class Viewer:
    """The person asking (None when anonymous) and their roles."""

    user: User | None
    roles: frozenset[str]

    @property
    def id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF)


def is_public(idea: Idea) -> bool:
    return idea.status in PUBLIC_STATUSES


def is_author(viewer: Viewer, idea: Idea) -> bool:
    return viewer.id is not None and viewer.id == idea.author_id


def can_view(viewer: Viewer, idea: Idea) -> bool:
    """Public ideas for everyone unless hidden; the author always; moderators all but drafts."""
    if is_author(viewer, idea):
        return True
    if viewer.is_staff:
        return idea.status != IdeaStatus.DRAFT
    return is_public(idea) and idea.hidden_at is None


def can_edit(viewer: Viewer, idea: Idea, open_phase: str | None) -> bool:
    """The author, while the idea can still be (re)submitted: a draft during the submission
    phase, an idea sent back for changes during submission or moderation. No edits after the
    deadline or after screening."""
    if not is_author(viewer, idea) or idea.status not in EDITABLE_STATUSES:
        return False
    if idea.status == IdeaStatus.CHANGES_REQUESTED:
        return open_phase in (Phase.SUBMISSION, Phase.MODERATION)
    return open_phase == Phase.SUBMISSION


def is_eligible(user: User | None, round_: Round) -> bool:
    """Signed in, and verified when the round asks for verified residents."""
    return user is not None and (user.is_verified or not round_.verified_only)


def can_propose(user: User | None, round_: Round, open_phase: str | None) -> bool:
    return is_eligible(user, round_) and open_phase == Phase.SUBMISSION


def can_submit(viewer: Viewer, idea: Idea, round_: Round, open_phase: str | None) -> bool:
    """A first submission needs the submission phase; a resubmission after a request for
    changes may also come during moderation."""
    return can_edit(viewer, idea, open_phase) and is_eligible(viewer.user, round_)


def can_withdraw(viewer: Viewer, idea: Idea) -> bool:
    return is_author(viewer, idea) and idea.status in (
        IdeaStatus.DRAFT, IdeaStatus.SUBMITTED, IdeaStatus.CHANGES_REQUESTED,
        IdeaStatus.PUBLISHED)


def can_support(user: User | None, idea: Idea, round_: Round, open_phase: str | None) -> bool:
    return (idea.status == IdeaStatus.PUBLISHED and idea.hidden_at is None
            and open_phase == Phase.SUPPORTS and is_eligible(user, round_))


def can_comment(user: User | None, idea: Idea) -> bool:
    return (user is not None and idea.hidden_at is None
            and idea.status in (IdeaStatus.PUBLISHED, IdeaStatus.ADMITTED))
