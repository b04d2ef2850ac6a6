"""Who may do what: every route, for every kind of person, in every phase of a round.

This is the intended answer, written from the product's intent (PRODUCT.md, SECURITY.md), not
recorded from what the app happens to do. tests/test_permission_matrix.py sends each request
and compares; a route without an entry here fails that test. docs/permissions.md is generated
from this table:

    python -m tests.permission_table --write

How to read an entry
--------------------
`E(name, method, path, who, ...)`: the route's name (as in url_for), the method, a path whose
{placeholders} the test fills from its world (below), and the answer per person. `who` maps
each of ROLES to one of the ANSWERS; `YES` stands for the entry's `allowed` answer: what a
permitted person gets for the test's request (`probe`, the form a POST sends; for several
POSTs a deliberately incomplete form, so the answer is a refusal that comes only *after* the
permission check and nothing changes). An entry with `phases` is tested in a round in every
phase: in the listed phases `who` holds; in the others each `YES` becomes `closed`, the
refusal a wrong phase gives. Entries without `phases` hold in any phase and are tested in the
voting round. `case` tells apart entries of one route that ask about different objects
(someone's draft, a published idea).

The world the test builds
-------------------------
One contest with a round per phase (Phase in contests/models.py), each with two districts and
a city-wide pot; approval voting on the city-wide pot; ideas by the *author*: a draft with a
photo, a submitted idea, a published idea with a photo and a comment, a second published idea
(`spare`) and an admitted idea on the ballot. From the voting round on, the *resident* has
voted (a receipt); the counting round has a count; the results and implementation rounds have
published results. People: anonymous; *resident* (verified, district 1, no role); *author*
(the same, and wrote the ideas); *moderator*, *jury* (a juror, not the chair), *clerk* and
*admin*, each a verified resident with that one role; and a bystander account the staff pages
look at.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from contests.models import PHASE_ORDER

ROLES = ("anonymous", "resident", "author", "moderator", "jury", "clerk", "admin")
PHASES = tuple(p.value for p in PHASE_ORDER)
DEFAULT_PHASE = "voting"  # entries that hold in any phase are tested in this round

YES = "yes"  # allowed: the entry's `allowed` answer
CLOSED = "closed"  # the entry's `closed` answer (only produced by phase rules)
SIGN_IN = "sign in"  # 303 to /signin?next=...
OK = "200"
DONE = "303"  # done, and sent on (not to sign-in) without an error message
REFUSED = "303 refused"  # sent back with an error message
BAD = "400"
FORBIDDEN = "403"
NOT_FOUND = "404"
CONFLICT = "409"
INVALID = "422"  # the form comes back with what to fix

ANSWERS = {
    OK: "the page (200)",
    DONE: "done, then a redirect with a success message (303)",
    REFUSED: "the action was refused and the person is sent back with a message saying why "
             "(303 with an error message)",
    SIGN_IN: "a redirect to the sign-in page, which comes back here afterwards (303)",
    BAD: "the link or request is not valid (400)",
    FORBIDDEN: "refused: this person may not do this (403)",
    NOT_FOUND: "not found: the object does not exist for this person (404); missing and "
               "forbidden look the same",
    CONFLICT: "refused: not possible in the round's current phase (409)",
    INVALID: "the form is shown again with what to fix (422)",
}


@dataclass(frozen=True)
class E:
    """One route and method (and `case`), and the answer each person should get."""

    name: str
    method: str
    path: str
    who: Mapping[str, str]
    allowed: str = OK
    probe: Mapping[str, str | list[str]] = field(default_factory=dict)
    phases: tuple[str, ...] | None = None
    closed: str = FORBIDDEN
    case: str = ""
    note: str = ""

    def answer(self, role: str, phase: str | None = None) -> str:
        """The concrete answer (never YES or CLOSED) for `role` in a round in `phase`."""
        want = self.who[role]
        if want == YES and self.phases is not None and phase not in self.phases:
            want = CLOSED
        return {YES: self.allowed, CLOSED: self.closed}.get(want, want)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.name, self.method, self.case)


def who(default: str, **answers: str) -> dict[str, str]:
    unknown = set(answers) - set(ROLES)
    assert not unknown, unknown
    return {role: answers.get(role, default) for role in ROLES}


def signed_in(answer: str = YES, **answers: str) -> dict[str, str]:
    """Anonymous people sign in first; everyone signed in gets `answer` unless named."""
    return who(answer, anonymous=SIGN_IN, **answers)


def only(*roles: str, others: str = FORBIDDEN) -> dict[str, str]:
    """Anonymous people sign in first; the named roles may; everyone else gets `others`."""
    return who(others, anonymous=SIGN_IN, **dict.fromkeys(roles, YES))


EVERYONE = who(YES)
MEMBERS = signed_in()
ADMINS = only("admin")
MODERATORS = only("moderator", "admin")
JURY = only("jury", "admin")
OWN_DRAFT = who(NOT_FOUND, anonymous=SIGN_IN, author=YES)  # others cannot tell it exists

AFTER_PUBLICATION = ("results", "implementation")

#: What each {placeholder} of a path or form names in the test's world.
PLACEHOLDERS = {
    "round": "the round (the one in the phase tested)",
    "survey_response": "a response to the closed survey with a written answer to screen",
    "pot": "the round's city-wide budget, which everyone votes in",
    "other_pot": "the budget of district 2, where none of the people live",
    "idea": "a published idea by the author, with a photo and the author's comment",
    "idea_id": "its number", "idea_version": "its version",
    "spare": "another published idea by the author", "spare_version": "its version",
    "draft": "the author's draft, with a photo", "draft_version": "its version",
    "attachment": "the draft's photo", "draft_file": "the stored file of the draft's photo",
    "file": "the stored file of the published idea's photo",
    "changes": "the author's idea that a moderator sent back for changes",
    "submitted": "the author's idea waiting for moderation", "submitted_version": "its version",
    "admitted": "the author's idea admitted to the city-wide ballot (it wins once results "
                "are published)",
    "admitted_id": "its number",
    "project_photo": "a progress photo of that winning project (none before publication)",
    "comment": "the author's comment on the published idea",
    "receipt": "the receipt of the resident's ballot",
    "sheet": "a paper ballot read by one clerk so far",
    "run": "the round's latest count (0 before counting)",
    "user": "the account of a bystander (a resident none of the others)",
    "contest": "the contest", "category": "a category",
    "token": "a made-up confirmation or password-reset token",
    "provider": "a sign-in provider that is not configured",
}

TABLE: tuple[E, ...] = (
    # --- accounts: public forms; a token in the path is the credential -------------------
    E("accounts:signup", "GET", "/signup", EVERYONE),
    E("accounts:signup", "POST", "/signup", EVERYONE, allowed=INVALID),
    E("accounts:confirm", "GET", "/confirm/{token}", EVERYONE,
      note="a page with a button; the token is checked when it is pressed"),
    E("accounts:confirm", "POST", "/confirm/{token}", EVERYONE, allowed=BAD,
      note="an unknown token is refused for everyone"),
    E("accounts:signin", "GET", "/signin", EVERYONE),
    E("accounts:signin", "POST", "/signin", EVERYONE, allowed=INVALID),
    E("accounts:forgot", "GET", "/password/forgot", EVERYONE),
    E("accounts:forgot", "POST", "/password/forgot", EVERYONE, allowed=INVALID),
    E("accounts:reset", "GET", "/password/reset/{token}", EVERYONE),
    E("accounts:reset", "POST", "/password/reset/{token}", EVERYONE, allowed=INVALID),
    E("accounts:oidc_start", "POST", "/signin/oidc/{provider}", who(NOT_FOUND),
      note="no such provider is configured"),
    E("accounts:oidc_callback", "GET", "/signin/oidc/{provider}/callback", who(NOT_FOUND),
      note="no such provider is configured"),
    E("accounts:terms", "GET", "/terms", EVERYONE),
    E("accounts:account", "GET", "/account", MEMBERS),
    E("accounts:account", "POST", "/account", MEMBERS, allowed=INVALID),
    E("accounts:verify", "POST", "/account/verify", MEMBERS, allowed=REFUSED,
      note="an empty ID number is refused after the permission check"),
    E("accounts:language", "POST", "/language", EVERYONE, allowed=DONE,
      probe={"locale": "en", "next": "/"}),
    E("accounts:signout", "POST", "/signout", EVERYONE, allowed=DONE,
      note="tested last: it ends the session"),
    E("healthz", "GET", "/healthz", EVERYONE),
    # --- contests: public pages ------------------------------------------------------------
    E("contests:home", "GET", "/", EVERYONE),
    E("contests:round", "GET", "/rounds/{round}", EVERYONE),
    # --- ideas -----------------------------------------------------------------------------
    E("ideas:list", "GET", "/ideas", EVERYONE),
    E("ideas:new", "GET", "/rounds/{round}/ideas/new", MEMBERS, phases=("submission",),
      note="any signed-in resident (verified ones only when the round asks)"),
    E("ideas:new", "POST", "/rounds/{round}/ideas/new", MEMBERS, allowed=INVALID,
      phases=("submission",)),
    E("ideas:detail", "GET", "/ideas/{idea}", EVERYONE, case="published"),
    E("ideas:detail", "GET", "/ideas/{draft}", who(NOT_FOUND, author=YES), case="a draft"),
    E("ideas:detail", "GET", "/ideas/{submitted}",
      who(NOT_FOUND, author=YES, moderator=YES, admin=YES), case="waiting for moderation"),
    E("ideas:edit", "GET", "/ideas/{draft}/edit", OWN_DRAFT, phases=("submission",),
      case="a draft", note="no edits after the deadline"),
    E("ideas:edit", "POST", "/ideas/{draft}/edit", OWN_DRAFT, allowed=INVALID,
      phases=("submission",), case="a draft"),
    E("ideas:edit", "GET", "/ideas/{changes}/edit",
      who(NOT_FOUND, anonymous=SIGN_IN, author=YES, moderator=FORBIDDEN, admin=FORBIDDEN),
      phases=("submission", "moderation"), case="sent back for changes",
      note="moderators see the idea but only its author edits it"),
    E("ideas:edit", "GET", "/ideas/{idea}/edit", signed_in(FORBIDDEN), case="published",
      note="no edits after screening, not even by the author"),
    E("ideas:withdraw", "POST", "/ideas/{spare}/withdraw",
      signed_in(FORBIDDEN, author=YES), allowed=DONE, probe={"version": "{spare_version}"}),
    E("ideas:attachment_delete", "POST", "/ideas/{draft}/attachments/{attachment}/delete",
      OWN_DRAFT, allowed=DONE, phases=("submission",), note="part of editing the draft"),
    E("ideas:submit", "POST", "/ideas/{draft}/submit", OWN_DRAFT, allowed=DONE,
      probe={"version": "{draft_version}"}, phases=("submission",),
      note="tested after the other requests about the draft: it sends the draft in"),
    E("ideas:file", "GET", "/files/{file}", EVERYONE, case="of a published idea"),
    E("ideas:file", "GET", "/files/{draft_file}", who(NOT_FOUND, author=YES),
      case="of a draft"),
    # --- engagement ------------------------------------------------------------------------
    E("engagement:support", "POST", "/ideas/{idea}/support", MEMBERS, allowed=DONE,
      phases=("supports",)),
    E("engagement:unsupport", "POST", "/ideas/{idea}/unsupport", MEMBERS, allowed=DONE,
      phases=("supports",), note="tested after each person supported the idea"),
    E("engagement:comment", "POST", "/ideas/{idea}/comments", MEMBERS, allowed=DONE,
      probe={"body": "A question about the benches"}),
    E("engagement:comment_edit", "GET", "/comments/{comment}/edit",
      signed_in(FORBIDDEN, author=YES), note="the author's own comment, for 15 minutes"),
    E("engagement:comment_edit", "POST", "/comments/{comment}/edit",
      signed_in(FORBIDDEN, author=YES), allowed=DONE, probe={"body": "Edited comment"}),
    E("engagement:mine", "GET", "/my/ideas", MEMBERS),
    E("engagement:notifications", "GET", "/notifications", MEMBERS),
    E("engagement:notifications_read", "POST", "/notifications/read", MEMBERS, allowed=DONE),
    # --- moderation ------------------------------------------------------------------------
    E("moderation:queue", "GET", "/moderation", MODERATORS),
    E("moderation:review", "GET", "/moderation/ideas/{submitted}", MODERATORS),
    E("moderation:decide", "POST", "/moderation/ideas/{submitted}/decide", MODERATORS,
      allowed=REFUSED, probe={"kind": "request_changes", "version": "{submitted_version}"},
      note="asking for changes without saying what is refused after the permission check"),
    E("moderation:comment_hide", "POST", "/moderation/comments/{comment}/hide", MODERATORS,
      allowed=REFUSED, note="hiding without a public reason is refused"),
    E("moderation:comment_unhide", "POST", "/moderation/comments/{comment}/unhide",
      MODERATORS, allowed=DONE),
    E("moderation:reports", "GET", "/moderation/reports", MODERATORS),
    E("moderation:resolve", "POST", "/moderation/reports/resolve", MODERATORS, allowed=DONE,
      probe={"target_type": "idea", "target_id": "{idea_id}", "resolution": "dismiss"}),
    E("moderation:account", "GET", "/moderation/users/{user}", MODERATORS),
    E("moderation:block", "POST", "/moderation/users/{user}/block", MODERATORS,
      allowed=REFUSED, note="a block without a reason is refused"),
    E("moderation:unblock", "POST", "/moderation/users/{user}/unblock", MODERATORS,
      allowed=REFUSED, note="the bystander is not blocked"),
    E("moderation_public:report_idea", "GET", "/ideas/{idea}/report", MEMBERS),
    E("moderation_public:report_idea", "POST", "/ideas/{idea}/report", MEMBERS,
      allowed=INVALID),
    E("moderation_public:report_comment", "GET", "/comments/{comment}/report", MEMBERS),
    E("moderation_public:report_comment", "POST", "/comments/{comment}/report", MEMBERS,
      allowed=INVALID),
    E("moderation_public:transparency", "GET", "/transparency", EVERYONE),
    E("moderation_public:reasons", "GET", "/admin/reasons", ADMINS),
    E("moderation_public:reasons", "POST", "/admin/reasons", ADMINS, allowed=INVALID),
    # --- administration --------------------------------------------------------------------
    E("admin:home", "GET", "/admin", ADMINS),
    E("admin:users", "GET", "/admin/users", ADMINS),
    E("admin:user", "GET", "/admin/users/{user}", ADMINS),
    E("admin:user_roles", "POST", "/admin/users/{user}/roles", ADMINS, allowed=INVALID),
    E("admin:user_residency", "POST", "/admin/users/{user}/residency", ADMINS, allowed=DONE),
    E("admin:census", "GET", "/admin/census", ADMINS),
    E("admin:census", "POST", "/admin/census", ADMINS, allowed=INVALID),
    E("admin:audit", "GET", "/admin/audit", ADMINS),
    E("admin:audit_csv", "GET", "/admin/audit.csv", ADMINS),
    E("contest_admin:contests", "GET", "/admin/contests", ADMINS),
    E("contest_admin:contests", "POST", "/admin/contests", ADMINS, allowed=INVALID),
    E("contest_admin:contest", "GET", "/admin/contests/{contest}", ADMINS),
    E("contest_admin:contest", "POST", "/admin/contests/{contest}", ADMINS, allowed=INVALID),
    E("contest_admin:round_create", "POST", "/admin/contests/{contest}/rounds", ADMINS,
      allowed=INVALID),
    E("contest_admin:round_edit", "GET", "/admin/rounds/{round}", ADMINS),
    E("contest_admin:round_edit", "POST", "/admin/rounds/{round}", ADMINS, allowed=INVALID),
    E("contest_admin:round_phases", "POST", "/admin/rounds/{round}/phases", ADMINS,
      allowed=INVALID, probe={"voting_start": "2027-03-01T09:00"},
      note="a start without an end is refused after the permission check"),
    E("contest_admin:round_pots", "POST", "/admin/rounds/{round}/pots", ADMINS,
      allowed=INVALID, phases=("submission", "moderation", "supports", "jury_review"),
      closed=REFUSED, note="budgets lock once voting has begun"),
    E("contest_admin:categories", "GET", "/admin/categories", ADMINS),
    E("contest_admin:categories", "POST", "/admin/categories", ADMINS, allowed=INVALID),
    E("contest_admin:category", "GET", "/admin/categories/{category}", ADMINS),
    E("contest_admin:category", "POST", "/admin/categories/{category}", ADMINS,
      allowed=INVALID),
    # --- voting ----------------------------------------------------------------------------
    E("voting:home", "GET", "/rounds/{round}/vote", MEMBERS),
    E("voting:ballot", "GET", "/rounds/{round}/vote/{pot}", MEMBERS, case="city-wide pot"),
    E("voting:ballot", "GET", "/rounds/{round}/vote/{other_pot}", signed_in(NOT_FOUND),
      case="another district's pot", note="everyone here lives in district 1"),
    E("voting:basket", "POST", "/rounds/{round}/vote/{pot}/basket", MEMBERS, allowed=DONE,
      probe={"action": "add", "idea": "{admitted_id}"}, phases=("voting",), closed=CONFLICT),
    E("voting:review", "GET", "/rounds/{round}/vote/{pot}/review", MEMBERS),
    E("voting:cast", "POST", "/rounds/{round}/vote/{pot}/cast", MEMBERS, allowed=DONE,
      probe={"mark": ["{admitted_id}:1"]}, phases=("voting",), closed=INVALID,
      note="refused with the reason on the review page"),
    E("voting:check", "GET", "/receipts", EVERYONE),
    E("voting:receipt", "GET", "/receipts/{receipt}",
      who(NOT_FOUND, anonymous=SIGN_IN, resident=YES),
      note="the resident's receipt: only they see what they chose"),
    E("voting:log", "GET", "/rounds/{round}/log", EVERYONE),
    E("voting:log_json", "GET", "/rounds/{round}/log.json", EVERYONE),
    E("voting:admin", "GET", "/admin/rounds/{round}/voting", ADMINS),
    E("voting:admin", "POST", "/admin/rounds/{round}/voting", ADMINS, allowed=INVALID),
    E("voting:admin_items", "POST", "/admin/rounds/{round}/voting/items", ADMINS,
      allowed=REFUSED, note="ballots are cast: the ballot can no longer change"),
    E("voting:admin_paper", "GET", "/admin/rounds/{round}/paper", ADMINS),
    E("voting:admin_resolve", "POST", "/admin/rounds/{round}/paper/sheets/{sheet}", ADMINS,
      allowed=REFUSED, probe={"entry": "void"},
      note="only a sheet whose two readings differ can be decided"),
    E("voting:clerk", "GET", "/clerk/rounds/{round}/paper", only("clerk", "admin")),
    E("voting:clerk", "POST", "/clerk/rounds/{round}/paper", only("clerk", "admin"),
      allowed=DONE, probe={"serial": "A-1", "pot": "{pot}", "id_number": "AN1234567",
                           "mark_{admitted_id}": "1"},
      phases=("voting",), closed=INVALID, note="paper ballots are entered while voting is open"),
    # --- results ---------------------------------------------------------------------------
    E("results:page", "GET", "/rounds/{round}/results", EVERYONE, phases=None,
      note="before publication it says when results come; the jury also sees its count"),
    E("results:publish", "POST", "/rounds/{round}/results/publish", JURY, allowed=INVALID,
      probe={"run": "{run}", "statement": ""}, phases=("counting",), closed=REFUSED,
      note="after counting, once; an empty statement is refused after the permission check"),
    E("results:count", "POST", "/rounds/{round}/results/count", JURY, allowed=DONE,
      phases=("counting",), closed=REFUSED,
      note="after voting closes and before publication"),
    E("results:csv", "GET", "/rounds/{round}/results.csv", EVERYONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND, note="nothing before publication"),
    E("results:pabulib", "GET", "/rounds/{round}/results/pots/{pot}.pb", EVERYONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND, note="nothing before publication"),
    E("results:api_contests", "GET", "/api/contests", EVERYONE),
    E("results:api_round", "GET", "/api/rounds/{round}", EVERYONE),
    E("results:api_ideas", "GET", "/api/rounds/{round}/ideas", EVERYONE),
    E("results:api_results", "GET", "/api/rounds/{round}/results", EVERYONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND, note="nothing before publication"),
    E("results:results_sig", "GET", "/api/rounds/{round}/results.sig", EVERYONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND, note="signatures only after publication"),
    E("results:pabulib_sig", "GET", "/rounds/{round}/results/pots/{pot}.pb.sig", EVERYONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND, note="signatures only after publication"),
    E("results:public_key", "GET", "/results/public-key.pem", EVERYONE,
      note="the key that checks the signatures is public"),
    # --- rule simulation -------------------------------------------------------------------
    E("simulation:page", "GET", "/admin/simulate", ADMINS),
    E("simulation:page", "POST", "/admin/simulate", ADMINS, allowed=INVALID),
    # --- implementation tracking -----------------------------------------------------------
    E("tracking:list", "GET", "/projects", EVERYONE),
    E("tracking:api", "GET", "/api/projects", EVERYONE),
    # --- open-data API v1 ------------------------------------------------------------------
    E("opendata:page", "GET", "/open-data", EVERYONE,
      note="published datasets only: results and ballots after publication"),
    E("opendata:catalog", "GET", "/open-data/catalog.jsonld", EVERYONE),
    E("opendata:zip", "GET", "/open-data/shaar-open-data.zip", EVERYONE),
    E("opendata:zip_sig", "GET", "/open-data/shaar-open-data.zip.sig", EVERYONE),
    E("api:openapi", "GET", "/api/v1/openapi.json", EVERYONE),
    E("api:contests", "GET", "/api/v1/contests", EVERYONE),
    E("api:round", "GET", "/api/v1/rounds/{round}", EVERYONE,
      note="phases, pots and the ballot log head, public in every phase"),
    E("api:districts", "GET", "/api/v1/districts", EVERYONE),
    E("api:categories", "GET", "/api/v1/categories", EVERYONE),
    E("api:surveys", "GET", "/api/v1/surveys", EVERYONE, note="waves whose results are public"),
    E("api:ideas", "GET", "/api/v1/ideas", EVERYONE, note="published ideas only"),
    E("api:results", "GET", "/api/v1/rounds/{round}/results", EVERYONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND, note="nothing before publication"),
    E("api:transparency", "GET", "/api/v1/transparency", EVERYONE),
    E("api:projects", "GET", "/api/v1/projects", EVERYONE),
    E("api:not_found", "GET", "/api/v1/{round}/nothing", who(NOT_FOUND),
      note="any other path under /api/v1/ is a problem+json 404, never a redirect"),
    E("api:api_not_found", "GET", "/api/{round}/nothing", who(NOT_FOUND),
      note="any other path under /api/ is a problem+json 404, never a redirect"),
    E("api:api_root", "GET", "/api", who(NOT_FOUND)),
    E("tracking:photo", "GET", "/projects/photos/{project_photo}", EVERYONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND,
      note="only a winning project has progress photos"),
    E("tracking:manage", "GET", "/projects/{admitted}/manage", ADMINS,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND,
      note="a project exists here once it won: before publication there is none"),
    E("tracking:manage", "POST", "/projects/{admitted}/manage", ADMINS, allowed=INVALID,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND),
    E("tracking:follow", "POST", "/projects/{admitted}/follow", MEMBERS, allowed=DONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND, note="any signed-in resident"),
    E("tracking:unfollow", "POST", "/projects/{admitted}/unfollow", MEMBERS, allowed=DONE,
      phases=AFTER_PUBLICATION, closed=NOT_FOUND),
    # --- surveys ---------------------------------------------------------------------------
    E("surveys:list", "GET", "/surveys", EVERYONE),
    E("surveys:answer", "GET", "/surveys/survey-open", MEMBERS,
      note="this survey is for any account; a verified-only survey refuses others (403)"),
    E("surveys:answer", "POST", "/surveys/survey-open", MEMBERS, allowed=INVALID),
    E("surveys:interview", "GET", "/surveys/survey-open/interview", only("clerk"),
      note="clerks type in telephone and paper interviews"),
    E("surveys:interview", "POST", "/surveys/survey-open/interview", only("clerk"),
      allowed=INVALID),
    E("surveys:results", "GET", "/surveys/survey-closed/results", EVERYONE,
      note="published once the wave closes"),
    E("surveys:data", "GET", "/surveys/survey-closed/waves/1/responses.csv", EVERYONE),
    E("survey_admin:surveys", "GET", "/admin/surveys", ADMINS),
    E("survey_admin:surveys", "POST", "/admin/surveys", ADMINS, allowed=INVALID),
    E("survey_admin:survey", "GET", "/admin/surveys/survey-open", ADMINS),
    E("survey_admin:survey", "POST", "/admin/surveys/survey-open", ADMINS, allowed=INVALID),
    E("survey_admin:wave_create", "POST", "/admin/surveys/survey-open/waves", ADMINS,
      allowed=INVALID, note="a new wave copies the questions of the latest"),
    E("survey_admin:wave", "GET", "/admin/surveys/survey-open/waves/1", ADMINS),
    E("survey_admin:wave", "POST", "/admin/surveys/survey-open/waves/1", ADMINS,
      allowed=INVALID, note="dates are typed in the city's time zone"),
    E("survey_admin:question_create", "GET", "/admin/surveys/survey-open/waves/1/questions/new",
      ADMINS, note="a wave with responses refuses (303 with a message): its questions are "
                   "locked"),
    E("survey_admin:question_create", "POST",
      "/admin/surveys/survey-open/waves/1/questions/new", ADMINS, allowed=INVALID),
    E("survey_admin:question", "GET", "/admin/surveys/survey-open/waves/1/questions/sat_roads",
      ADMINS),
    E("survey_admin:question", "POST",
      "/admin/surveys/survey-open/waves/1/questions/sat_roads", ADMINS, allowed=INVALID),
    E("survey_admin:question_move", "POST",
      "/admin/surveys/survey-open/waves/1/questions/sat_roads/move", ADMINS, allowed=REFUSED,
      note="without a direction nothing moves"),
    E("survey_admin:question_delete", "POST",
      "/admin/surveys/survey-open/waves/1/questions/sat_roads/delete", ADMINS,
      allowed=REFUSED, note="without the confirmation box nothing is removed"),
    E("survey_screening:queue", "GET", "/moderation/surveys", MODERATORS,
      note="written survey answers, without anything about who wrote them"),
    E("survey_screening:decide", "POST", "/moderation/surveys/{survey_response}", MODERATORS,
      allowed=REFUSED, note="without the fingerprint of the text seen, nothing is decided"),
    # --- jury ------------------------------------------------------------------------------
    E("jury:index", "GET", "/jury", JURY),
    E("jury:round", "GET", "/jury/rounds/{round}", JURY),
    E("jury:idea", "GET", "/jury/ideas/{idea}", JURY, case="published"),
    E("jury:idea", "GET", "/jury/ideas/{submitted}",
      who(FORBIDDEN, anonymous=SIGN_IN, jury=NOT_FOUND, admin=NOT_FOUND),
      case="waiting for moderation", note="only ideas up for review exist here"),
    E("jury:assess", "POST", "/jury/ideas/{idea}/assess", only("jury"), allowed=INVALID,
      phases=("jury_review",),
      note="a juror's own judgement, not an admin's; the empty form is refused after the "
           "permission and phase checks"),
    E("jury:confirm", "POST", "/jury/ideas/{idea}/confirm", only("admin"), allowed=INVALID,
      probe={"kind": "not_feasible", "version": "{idea_version}", "public_reason": ""},
      phases=("jury_review",),
      note="the chair of the round's jury (not this juror) or an admin"),
    E("jury:chair", "GET", "/admin/rounds/{round}/jury", ADMINS),
    E("jury:chair", "POST", "/admin/rounds/{round}/jury", ADMINS, allowed=DONE,
      note="an empty choice leaves the round without a chair"),
)


# --- the generated document -------------------------------------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
SHORT = {SIGN_IN: "sign in", YES: "yes", CLOSED: "closed"}


def _cell(entry: E, role: str, phase: str | None) -> str:
    answer = entry.answer(role, phase)
    if entry.who[role] != YES:
        return answer
    if entry.phases is not None and phase not in entry.phases:
        return f"closed ({answer})"
    return f"**yes** ({answer})"


def _path(entry: E) -> str:
    return entry.path.replace("{", "‹").replace("}", "›")


def render_doc(table: Iterable[E] = TABLE) -> str:
    entries = list(table)
    out = [
        "# Who may do what",
        "",
        "Generated from `tests/permission_table.py` by `python -m tests.permission_table "
        "--write`; do not edit by hand. `tests/test_permission_matrix.py` sends every "
        "request below as every kind of person, in a round in every phase, and fails when "
        "an answer differs, when a route has no entry, or when this file is out of date. "
        "It also sends every form without its CSRF token, as someone it would let through "
        "in a phase where it is open (the answer must be 403), and asks every POST-only "
        "route with GET (405).",
        "",
        "People: **anonymous**; **resident** (a verified resident with no role); **author** "
        "(a resident who wrote the ideas in question); **moderator**, **jury** (a juror, not "
        "the chair), **clerk** (polling clerk) and **admin**, each a resident with that one "
        "role.",
        "",
        "Paths name objects of the test world:",
        "",
        *(f"- ‹{name}›: {text}" for name, text in PLACEHOLDERS.items()),
        "",
        "Answers:",
        "",
    ]
    out += [f"- `{code}`: {text}" for code, text in ANSWERS.items()]
    out += ["", "**yes** marks the people allowed; the answer in brackets is what the test "
            "gets for its request (several POSTs send an incomplete form on purpose, so the "
            "allowed answer is a refusal that comes after the permission check and nothing "
            "changes). **closed** marks people who would be allowed in another phase.", "",
            "## In any phase of a round", "",
            "Tested in the round that is open for voting.", "",
            "| route | method | path | " + " | ".join(ROLES) + " | note |",
            "|---" * (len(ROLES) + 4) + "|"]
    for e in entries:
        if e.phases is None:
            name = f"{e.name} ({e.case})" if e.case else e.name
            cells = " | ".join(_cell(e, r, None) for r in ROLES)
            out.append(f"| `{name}` | {e.method} | `{_path(e)}` | {cells} | {e.note} |")
    out += ["", "## Depending on the round's phase", "",
            "Phases, in order: " + ", ".join(f"`{p}`" for p in PHASES) + ". Rounds from "
            "`results` on have published results.", ""]
    for e in entries:
        if e.phases is None:
            continue
        name = f"{e.name} ({e.case})" if e.case else e.name
        out += [f"### `{name}`: {e.method} `{_path(e)}`", ""]
        opened = ", ".join(f"`{p}`" for p in e.phases)
        out.append(f"Open in {opened}; in other phases a permitted person gets "
                   f"`{e.closed}`." + (f" {e.note[0].upper()}{e.note[1:]}." if e.note else ""))
        out += ["", "| phase | " + " | ".join(ROLES) + " |", "|---" * (len(ROLES) + 1) + "|"]
        for phase in PHASES:
            cells = " | ".join(_cell(e, r, phase) for r in ROLES)
            out.append(f"| {phase} | {cells} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render_doc()
    if "--write" in argv:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
        return 0
    if "--check" in argv:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is out of date: run python -m tests.permission_table --write")
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
