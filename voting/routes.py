"""The ballot: a resident's pots, the basket (a server-side form without JavaScript, htmx
fragments with it), the review step, casting, the receipt, and the public log pages."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests.models import Contest, Phase, Round
from contests.services import current_phase, phases_of
from core import ratelimit
from core.i18n import gettext as _
from core.models import User
from core.outbox import enqueue_mail
from core.templating import is_htmx, render
from core.web import as_int, db, read_form, redirect, require_user
from voting import ballots, queries, services, verify
from voting.messages import problem_text, refusal_text
from voting.models import Ballot, BallotLogEntry, Channel
from voting.queries import PotBallot
from voting.staff import routes as staff_routes

log = logging.getLogger("shaar.voting")
NO_STORE = {"Cache-Control": "no-store"}


def access_round(s: Session, request: Request) -> Round:
    round_ = s.get(Round, request.path_params["round_id"])
    if round_ is None:
        raise HTTPException(404)
    return round_


def access_pot(s: Session, request: Request, user: User) -> PotBallot:
    """The pot's ballot if this resident votes in it; 404 otherwise (missing and forbidden
    look the same)."""
    ballot = queries.pot_ballot(s, request.path_params["round_id"], request.path_params["pot_id"])
    if ballot is None or ballot.pot.district_id not in (None, user.district_id):
        raise HTTPException(404)
    return ballot


def online_voter(user: User) -> services.Voter:
    """The resident as an online voter. Their pseudonym needs only the account; a cast reads
    their census claim itself, under the round lock."""
    return services.Voter(Channel.ONLINE, person_id=user.id, district_id=user.district_id,
                          is_verified=user.is_verified)


def _key(request: Request) -> bytes:
    return services.ballot_key(request.app.state.settings.secret_key)


def _context(s: Session, request: Request, user: User) -> dict[str, Any]:
    round_ = access_round(s, request)
    ballot = access_pot(s, request, user)
    voter = online_voter(user)
    alias = services.pseudonym(_key(request), round_.id or 0, voter)
    assert ballot.pot.id is not None
    marks = services.read_draft(s, round_.id or 0, ballot.pot.id, alias)
    current = services.current_ballot(s, round_.id or 0, ballot.pot.id, alias)
    phase = current_phase(s, round_, request.state.now)
    voting = queries.round_voting(s, round_.id or 0)
    return {"round": round_, "ballot": ballot, "rules": ballot.rules, "marks": marks,
            "spent": ballots.spent(ballot.rules, marks), "current": current,
            "voting": voting, "is_open": phase is not None and phase.phase == Phase.VOTING,
            "phase": phase, "ranking": ballots.ranking(marks), "problems": [],
            "refusal": None,
            "must_verify": voting is not None and voting.verified_only and not user.is_verified}


async def vote_home(request: Request) -> Response:
    user = require_user(request)
    with db(request) as s:
        round_ = access_round(s, request)
        contest = s.get(Contest, round_.contest_id)
        pots = queries.voter_pots(s, round_.id or 0, user.district_id)
        voter = online_voter(user)
        alias = services.pseudonym(_key(request), round_.id or 0, voter)
        cast = {b.pot.id: services.current_ballot(s, round_.id or 0, b.pot.id or 0, alias)
                for b in pots}
        phase = current_phase(s, round_, request.state.now)
        voting = queries.round_voting(s, round_.id or 0)
        voting_phase = next((p for p in phases_of(s, round_) if p.phase == Phase.VOTING), None)
        seqs = [b.log_seq for b in cast.values() if b is not None]
        receipts = {e.seq: e.entry_hash for e in s.exec(select(BallotLogEntry).where(
            BallotLogEntry.round_id == round_.id, col(BallotLogEntry.seq).in_(seqs))).all()}
    return render(request, "voting/home.html", {
        "round": round_, "contest": contest, "pots": pots, "cast": cast, "voting": voting,
        "receipts": receipts,
        "is_open": phase is not None and phase.phase == Phase.VOTING,
        "voting_phase": voting_phase}, headers=NO_STORE)


async def ballot_page(request: Request) -> Response:
    user = require_user(request)
    with db(request) as s:
        context = _context(s, request, user)
    return render(request, "voting/ballot.html", context, block="basket", headers=NO_STORE)


async def basket_edit(request: Request) -> Response:
    """One basket edit (add, remove, up, down, points); refused edits say what to fix.
    A moderation block is about content, not the right to vote: blocked residents vote too."""
    user = require_user(request)
    form = await read_form(request)
    action = str(form.get("action", ""))
    idea = as_int(str(form.get("idea", ""))) or 0
    points = as_int(str(form.get("points", "") or "0"), 10**6)
    if action not in ("add", "remove", "up", "down", "points") or points is None:
        raise HTTPException(400)
    now = request.state.now
    with db(request, write=True) as s:
        context = _context(s, request, user)
        if not context["is_open"]:
            raise HTTPException(409, _("Voting is not open in this round now."))
        alias = services.pseudonym(_key(request), context["round"].id, online_voter(user))
        marks, problems = services.edit_draft(s, context["ballot"], alias, action, idea,
                                              points, now)
    context.update(marks=marks, spent=ballots.spent(context["rules"], marks),
                   ranking=ballots.ranking(marks),
                   problems=[problem_text(p) for p in problems])
    if not problems and not is_htmx(request):
        return redirect(request, f"{request.url.path.rsplit('/', 1)[0]}#item-{idea}")
    return render(request, "voting/ballot.html", context, block="basket",
                  status_code=422 if problems else 200, headers=NO_STORE)


async def review_page(request: Request) -> Response:
    user = require_user(request)
    with db(request) as s:
        context = _context(s, request, user)
    problems = ballots.check_ballot(context["rules"], context["marks"])
    context["problems"] = [problem_text(p) for p in problems]
    return render(request, "voting/review.html", context, headers=NO_STORE)


def _receipt_mail(s: Session, request: Request, user: User, receipt: services.Receipt) -> None:
    """Queue the receipt mail in the cast's own transaction (core/outbox.py): it is sent
    after the commit, and lost neither to a crash nor sent for a cast that rolled back."""
    if not user.email:
        return
    settings = request.app.state.settings
    body = _("Your ballot is recorded. Your receipt is:\n\n%(code)s\n\nCheck it at any time "
             "in the public ballot log: %(url)s\n\nYou can change your vote until voting "
             "closes; the latest ballot counts.", code=receipt.entry_hash,
             url=f"{settings.base_url}/receipts?code={receipt.entry_hash}")
    enqueue_mail(s, settings, user.email, _("Your ballot receipt"), body, kind="receipt",
                 now=request.state.now)


async def ballot_cast(request: Request) -> Response:
    """Cast the reviewed ballot; acknowledged (303 to the receipt) only after the commit.
    A moderation block does not take the vote away (docs/security.md)."""
    user = require_user(request)
    form = await read_form(request)
    # Generous enough for every honest change of mind; a script recasting in a loop stops.
    spec, key, now = request.app.state.settings.cast_rate_limit, f"cast:{user.id}", \
        request.state.now
    marks = ballots.parse_marks([v for v in form.getlist("mark") if isinstance(v, str)])
    age_ok = form.get("age_confirmed") == "yes"
    # One write transaction (one durable commit): the attempt is counted, then the cast,
    # which refuses before it writes anything, so a refused cast still leaves the attempt
    # counted. The voter's census claim is read by cast_ballot, under the round lock.
    voter = online_voter(user)
    outcome: services.Receipt | services.VoteRefused
    with db(request, write=True) as s:
        if not ratelimit.attempt(s, key, spec, now):
            raise HTTPException(429, _("You have cast many ballots in a short time. Please wait "
                                       "a while and try again."))
        try:
            if marks is None:
                raise services.VoteRefused("invalid", [ballots.Problem("bad_mark")])
            outcome = services.cast_ballot(
                s, request.path_params["round_id"], request.path_params["pot_id"], voter,
                marks, key=_key(request), now=now, age_ok=age_ok, last_read=True)
            _receipt_mail(s, request, user, outcome)  # a write only (last_read)
        except services.VoteRefused as exc:
            outcome = exc
    if isinstance(outcome, services.VoteRefused):
        with db(request) as s:  # a round or pot that is missing, or not theirs, is a 404 here
            context = _context(s, request, user)
        context["problems"], context["refusal"] = [refusal_text(outcome)], outcome.code
        return render(request, "voting/review.html", context, status_code=422,
                      headers=NO_STORE)
    receipt = outcome
    return redirect(request, f"/receipts/{receipt.entry_hash}", _("Your ballot is recorded."))


async def receipt_page(request: Request) -> Response:
    """The voter's own receipt with what they chose; anyone else gets 404."""
    user = require_user(request)
    with db(request) as s:
        entry = queries.find_receipt(s, request.path_params["code"])
        if entry is None:
            raise HTTPException(404)
        round_ = s.get(Round, entry.round_id)
        assert round_ is not None and round_.id is not None
        alias = services.pseudonym(_key(request), round_.id, online_voter(user))
        mine = s.exec(select(Ballot).where(Ballot.round_id == round_.id,
                                                    Ballot.log_seq == entry.seq,
                                                    Ballot.pseudonym == alias)).first()
        if mine is None:
            raise HTTPException(404)
        ballot = queries.pot_ballot(s, round_.id, mine.pot_id)
        superseded = queries.is_superseded(s, entry)
        withdrawn = superseded and queries.is_withdrawn(s, entry)
    marks = ballots.loads(mine.content)
    return render(request, "voting/receipt.html", {
        "entry": entry, "round": round_, "ballot": ballot, "marks": marks,
        "ranking": ballots.ranking(marks), "superseded": superseded,
        "withdrawn": withdrawn}, headers=NO_STORE)


async def receipt_check(request: Request) -> Response:
    """Public: is this receipt in a log; once voting closed, does it count?"""
    code = request.query_params.get("code", "")[:100]
    found, superseded, closed, count, round_ = None, False, False, 0, None
    withdrawn = False
    if code:
        with db(request) as s:
            found = queries.find_receipt(s, code)
            if found is not None:
                # Whoever holds a receipt (perhaps someone who pressed the voter) learns
                # whether it still counts only once nobody can change their vote any more.
                closed = queries.voting_closed(s, found.round_id, request.state.now)
                superseded = closed and queries.is_superseded(s, found)
                withdrawn = superseded and queries.is_withdrawn(s, found)
                count, _head = queries.log_head(s, found.round_id)
                round_ = s.get(Round, found.round_id)
    return render(request, "voting/check.html", {"code": code, "found": found, "round": round_,
                                                 "superseded": superseded, "closed": closed,
                                                 "withdrawn": withdrawn,
                                                 "count": count})


async def log_page(request: Request) -> Response:
    with db(request) as s:
        round_ = access_round(s, request)
        count, head = queries.log_head(s, round_.id or 0)
    return render(request, "voting/log.html", {"round": round_, "count": count, "head": head})


async def log_export(request: Request) -> Response:
    with db(request) as s:
        round_ = access_round(s, request)
        data = verify.export(s, round_.id or 0, request.state.now)
    return JSONResponse(data, headers={"Cache-Control": "no-cache",
                                       "Content-Disposition": f'inline; filename="ballot-log-'
                                       f'round-{round_.id}.json"'})


def round_summary(s: Session, round_id: int) -> dict[str, Any] | None:
    """For the round page: the log's size and head, or None when the round has no voting."""
    if queries.round_voting(s, round_id) is None:
        return None
    count, head = queries.log_head(s, round_id)
    return {"count": count, "head": head}


P = "/rounds/{round_id:int}/vote/{pot_id:int}"
routes = [
    Route("/rounds/{round_id:int}/vote", vote_home, name="home"),
    Route(P, ballot_page, name="ballot"),
    Route(P + "/basket", basket_edit, methods=["POST"], name="basket"),
    Route(P + "/review", review_page, name="review"),
    Route(P + "/cast", ballot_cast, methods=["POST"], name="cast"),
    Route("/receipts", receipt_check, name="check"),
    Route("/receipts/{code}", receipt_page, name="receipt"),
    Route("/rounds/{round_id:int}/log", log_page, name="log"),
    Route("/rounds/{round_id:int}/log.json", log_export, name="log_json"),
    *staff_routes,
]
