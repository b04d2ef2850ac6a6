"""What to tell a voter, in their language, when a ballot or an edit is refused."""

from __future__ import annotations

from core.i18n import format_som, ngettext
from core.i18n import gettext as _
from voting.ballots import Problem
from voting.services import VoteRefused


def problem_text(problem: Problem) -> str:
    """One sentence that says what is wrong and what to do about it."""
    v = problem.values
    if problem.code == "over_budget":
        return _("Your choices cost %(spent)s, %(over)s over the budget of %(budget)s. "
                 "Remove a project.", spent=format_som(v["spent"]), over=format_som(v["over"]),
                 budget=format_som(v["budget"]))
    if problem.code == "under_spend":
        return _("Your choices cost %(spent)s; spend at least %(needed)s. Add projects worth "
                 "%(short)s more.", spent=format_som(v["spent"]),
                 needed=format_som(v["needed"]), short=format_som(v["short"]))
    if problem.code == "too_many":
        return ngettext("You may choose at most %(num)s project. Remove one.",
                        "You may choose at most %(num)s projects. Remove one.", v["max"])
    if problem.code == "too_few":
        return ngettext("Choose at least %(num)s project.", "Choose at least %(num)s projects.",
                        v["min"])
    if problem.code == "too_many_points":
        return _("You gave %(used)s points but have %(total)s. Take some points back.",
                 used=v["used"], total=v["total"])
    if problem.code == "points_per_project":
        return ngettext("Give a project at most %(num)s point.",
                        "Give a project at most %(num)s points.", v["max"])
    if problem.code == "ranks":
        return _("Rank the projects 1, 2, 3 and so on, each number once.")
    if problem.code == "unknown":
        return _("A project you chose is not on this ballot. Go back to the ballot and "
                 "choose again.")
    return _("Check your choices: a mark is not valid.")


def refusal_text(exc: VoteRefused) -> str:
    code = exc.code
    if code == "closed":
        return _("Voting is not open in this round now.")
    if code == "not_set_up":
        return _("This ballot is not ready yet.")
    if code == "not_eligible":
        return _("Only verified residents vote in this round. Verify your account on your "
                 "profile page first.")
    if code == "not_your_pot":
        return _("You vote in your own district and in the city-wide budget only.")
    if code == "other_channel":
        return _("This person has already voted through another channel (on paper or "
                 "online). One person votes once.")
    if code == "already_voted":
        return _("A paper ballot of this person is already counted for this budget.")
    if code == "not_on_census":
        return _("This ID number is not on the census list of a district that votes in "
                 "this budget. The ballot paper is not entered; check the number on the "
                 "paper, or set the paper aside for the election officer.")
    if code == "age":
        return _("Confirm your age to vote in this round.")
    return " ".join(problem_text(p) for p in exc.problems) or _("The ballot is not valid.")
