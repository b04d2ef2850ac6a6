"""Sign-up, e-mail confirmation, sign-in (password or OpenID Connect), password reset,
sign-out, the profile page and the language switch."""

from __future__ import annotations

import hashlib
import hmac
import logging

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core import ratelimit, sessions
from core.accounts import forms, oidc, services
from core.i18n import get_locale
from core.i18n import gettext as _
from core.models import District, User
from core.outbox import enqueue_mail
from core.security import safe_next
from core.settings import LOCALES
from core.templating import render
from core.web import (
    client_ip,
    db,
    field_str,
    read_form,
    redirect,
    require_user,
)

log = logging.getLogger("shaar.accounts")


def _rate_limited(request: Request, template: str, context: dict[str, object]) -> Response:
    return render(request, template, {**context, "rate_limited": True}, status_code=429,
                  headers={"Retry-After": "300"})


def _mail(s: Session, request: Request, to: str, subject: str, body: str) -> None:
    """Queue an account mail in the transaction that issued its token (core/outbox.py): it
    is sent after the commit. Queuing takes the same short time whether or not the address
    has an account, so the answer's timing tells nothing either."""
    enqueue_mail(s, request.app.state.settings, to, subject, body, kind="account",
                 now=request.state.now)


def _link(request: Request, name: str, **params: str) -> str:
    settings = request.app.state.settings
    return settings.base_url + str(request.app.url_path_for(name, **params))


async def signup(request: Request) -> Response:
    settings = request.app.state.settings
    if request.method == "GET":
        return render(request, "accounts/signup.html", {"form": forms.Form()})
    data = await read_form(request)
    form = forms.signup_form(data)
    if not form.ok:
        return render(request, "accounts/signup.html", {"form": form}, status_code=422)
    key = f"signup:{client_ip(request)}"
    now = request.state.now
    with db(request, write=True) as s:
        if ratelimit.is_limited(s, key, settings.signup_rate_limit, now):
            return _rate_limited(request, "accounts/signup.html", {"form": form})
        ratelimit.record_hit(s, key, settings.signup_rate_limit, now)
        user, created = services.register(s, form.values["email"], form.values["password"],
                                          form.values["display_name"], now)
        token = services.issue_token(s, user, services.CONFIRM, now) if created else None
        if token:
            body = _("Welcome to Shaar, %(name)s!\n\nConfirm your e-mail address by opening "
                     "this link within three days:\n%(link)s\n\nIf you did not sign up, ignore "
                     "this message.", name=form.values["display_name"],
                     link=_link(request, "accounts:confirm", token=token))
        else:
            body = _("Someone, perhaps you, tried to create a Shaar account with this address. "
                     "You already have one. If you forgot the password, reset it here:\n"
                     "%(link)s", link=_link(request, "accounts:forgot"))
        _mail(s, request, form.values["email"], _("Confirm your e-mail address"), body)
    return redirect(request, "/signin",
                    _("Check your e-mail: we sent a link to confirm the address."))


async def confirm(request: Request) -> Response:
    token = request.path_params["token"]
    if request.method == "GET":
        return render(request, "accounts/confirm.html", {"token": token})
    await read_form(request)
    with db(request, write=True) as s:
        user = services.confirm_email(s, token, request.state.now)
    if user is None:
        return render(request, "accounts/confirm.html", {"token": token, "invalid": True},
                      status_code=400)
    return redirect(request, "/signin", _("Your e-mail address is confirmed. Sign in."))


async def signin(request: Request) -> Response:
    settings = request.app.state.settings
    next_path = safe_next(request.query_params.get("next"))
    context = {"next": next_path, "providers": settings.oidc_providers}
    if request.method == "GET":
        return render(request, "accounts/signin.html", {**context, "form": forms.Form()})
    data = await read_form(request)
    next_path = safe_next(field_str(data, "next", 500) or None)
    context["next"] = next_path
    form = forms.signin_form(data)
    if not form.ok:
        return render(request, "accounts/signin.html", {**context, "form": form},
                      status_code=422)
    now = request.state.now
    email = services.normalise_email(form.values["email"])
    # Guessing is throttled per address; the account's own budget is wider and does not apply
    # to a browser holding this account's device cookie (set at an earlier sign-in), so
    # strangers' failures cannot lock the owner out (OWASP's device cookies).
    limits = [(f"signin:ip:{client_ip(request)}", settings.signin_rate_limit)]
    with db(request) as s:
        known = services.find_by_email(s, email)
    if not _is_known_device(request, email, known.password_hash if known else None):
        limit, seconds = ratelimit.parse_rate(settings.signin_rate_limit)
        limits.append((f"signin:email:{email}", f"{limit * ACCOUNT_BUDGET}/{seconds}"))
    token, device = None, None
    with db(request, write=True) as s:
        if any(ratelimit.is_limited(s, k, spec, now) for k, spec in limits):
            return _rate_limited(request, "accounts/signin.html", {**context, "form": form})
        user = services.authenticate(s, form.values["email"], form.values["password"])
        if user is None:
            for key, spec in limits:
                ratelimit.record_hit(s, key, spec, now)
        elif user.email_confirmed_at is not None:
            old = request.state.session_token
            if old:
                sessions.revoke_session(s, old, now)
            request.state.new_session_token = sessions.start_session(s, user, settings, now)
            device = [email, _device_generation(request, user.password_hash)]
        else:
            token = services.issue_token(s, user, services.CONFIRM, now)
            _mail(s, request, form.values["email"], _("Confirm your e-mail address"),
                  _("Open this link to confirm your address:\n%(link)s",
                    link=_link(request, "accounts:confirm", token=token)))
    if user is None:
        form.errors["password"] = _("The e-mail address or the password is wrong.")
        return render(request, "accounts/signin.html", {**context, "form": form},
                      status_code=422)
    if token is not None:
        form.errors["email"] = _("Confirm your e-mail address first: we have sent you a new "
                                 "link.")
        return render(request, "accounts/signin.html", {**context, "form": form},
                      status_code=422)
    response = redirect(request, next_path, _("You are signed in."))
    response.set_cookie(DEVICE_COOKIE, _device_signer(request).dumps(device),
                        max_age=DEVICE_MAX_AGE, httponly=True, samesite="lax",
                        secure=settings.base_url.startswith("https://"))
    return response


DEVICE_COOKIE = "shaar_device"
DEVICE_MAX_AGE = 180 * 86400
#: How many times the per-address limit an account may fail from browsers it does not know.
ACCOUNT_BUDGET = 4


def _device_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="device")


def _device_generation(request: Request, password_hash: str | None) -> str:
    """Changes whenever the account's password does: a device cookie issued before a password
    change (a reset, perhaps because the device was lost or the password leaked) stops
    counting as a known device. Keyed, so the cookie tells nothing about the hash."""
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, f"device|{password_hash or ''}".encode(), hashlib.sha256).hexdigest()[:32]


def _is_known_device(request: Request, email: str, password_hash: str | None) -> bool:
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie or password_hash is None:
        return False
    try:
        payload = _device_signer(request).loads(cookie, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return False
    # Cookies from before the generation existed carried the address alone: not known now.
    return payload == [email, _device_generation(request, password_hash)]


async def signout(request: Request) -> Response:
    await read_form(request)
    token = request.state.session_token
    if token:
        with db(request, write=True) as s:
            sessions.revoke_session(s, token, request.state.now)
    request.state.new_session_token = ""
    return redirect(request, "/", _("You are signed out."))


async def forgot(request: Request) -> Response:
    settings = request.app.state.settings
    if request.method == "GET":
        return render(request, "accounts/forgot.html", {"form": forms.Form()})
    data = await read_form(request)
    form = forms.email_form(data)
    if not form.ok:
        return render(request, "accounts/forgot.html", {"form": form}, status_code=422)
    now = request.state.now
    key = f"reset:{client_ip(request)}"
    with db(request, write=True) as s:
        if ratelimit.is_limited(s, key, settings.reset_rate_limit, now):
            return _rate_limited(request, "accounts/forgot.html", {"form": form})
        ratelimit.record_hit(s, key, settings.reset_rate_limit, now)
        user = services.find_by_email(s, form.values["email"])
        token = services.issue_token(s, user, services.RESET, now) if user else None
        if token:
            _mail(s, request, form.values["email"], _("Reset your password"),
                  _("Open this link within two hours to choose a new password:\n%(link)s\n\n"
                    "If you did not ask for this, ignore this message.",
                    link=_link(request, "accounts:reset", token=token)))
    # The same answer whether or not the address has an account.
    return redirect(request, "/signin",
                    _("If this address has an account, we sent it a link to reset the "
                      "password."))


async def reset(request: Request) -> Response:
    token = request.path_params["token"]
    if request.method == "GET":
        return render(request, "accounts/reset.html", {"form": forms.Form(), "token": token})
    data = await read_form(request)
    form = forms.new_password_form(data)
    if not form.ok:
        return render(request, "accounts/reset.html", {"form": form, "token": token},
                      status_code=422)
    with db(request, write=True) as s:
        user = services.reset_password(s, token, form.values["password"], request.state.now)
    if user is None:
        form.errors["password"] = _("This link has expired or was already used. Ask for a new "
                                    "one.")
        return render(request, "accounts/reset.html", {"form": form, "token": token},
                      status_code=422)
    request.state.new_session_token = ""
    return redirect(request, "/signin", _("Your password is changed. Sign in with it."))


def _provider(request: Request) -> oidc.OIDCProvider:
    provider = request.app.state.settings.provider(request.path_params["provider"])
    if provider is None:
        raise HTTPException(404)
    return provider


async def oidc_start(request: Request) -> Response:
    provider = _provider(request)
    data = await read_form(request)
    next_path = safe_next(field_str(data, "next", 500) or None)
    redirect_uri = _link(request, "accounts:oidc_callback", provider=provider.name)
    try:
        with db(request, write=True) as s:
            url = await oidc.begin(s, provider, redirect_uri, request.state.browser_id,
                                   next_path, request.state.now)
    except (oidc.OIDCError, OSError) as exc:
        log.warning("OIDC start with %s failed: %s", provider.name, exc)
        return redirect(request, "/signin", _("Sign-in with %(provider)s is not available "
                                              "right now.", provider=provider.title), "error")
    return RedirectResponse(url, status_code=303)


async def oidc_callback(request: Request) -> Response:
    provider = _provider(request)
    settings = request.app.state.settings
    params = request.query_params
    now = request.state.now
    failed = _("Sign-in with %(provider)s did not succeed. Try again.", provider=provider.title)
    state, code = params.get("state", ""), params.get("code", "")
    if not state or len(state) > 64:
        return redirect(request, "/signin", failed, "error")
    try:
        with db(request, write=True) as s:
            attempt = oidc.take_attempt(s, provider, state, request.state.browser_id, now)
        if params.get("error") or not code:
            raise oidc.OIDCError(f"provider returned {params.get('error', 'no code')}")
        redirect_uri = _link(request, "accounts:oidc_callback", provider=provider.name)
        issuer, claims = await oidc.finish(provider, attempt, code, redirect_uri)
    except (oidc.OIDCError, OSError) as exc:
        log.warning("OIDC sign-in with %s refused: %s", provider.name, exc)
        return redirect(request, "/signin", failed, "error")
    with db(request, write=True) as s:
        user = services.oidc_sign_in(s, provider.name, issuer, claims, now,
                                     provider.verified_claim, provider.district_claim)
        if request.state.session_token:
            sessions.revoke_session(s, request.state.session_token, now)
        request.state.new_session_token = sessions.start_session(s, user, settings, now)
    return redirect(request, attempt.next_path, _("You are signed in."))


async def account(request: Request) -> Response:
    user = require_user(request)
    with db(request) as s:
        districts = list(s.exec(select(District).order_by(col(District.id))).all())
    options = [(str(d.id), d.name(get_locale())) for d in districts]
    context = {"district_options": options, "form": forms.Form(values={
        "display_name": user.display_name, "locale": user.locale or "",
        "district": str(user.district_id or ""),
        "email_notifications": "yes" if user.email_notifications else ""})}
    if request.method == "GET":
        return render(request, "accounts/account.html", context)
    data = await read_form(request)
    form = forms.profile_form(data, {d.id for d in districts if d.id is not None})
    if not form.ok:
        return render(request, "accounts/account.html", {**context, "form": form},
                      status_code=422)
    with db(request, write=True) as s:
        fresh = s.get(User, user.id)
        services.update_profile(s, fresh, form.values["display_name"],
                                form.values["locale"] or None,
                                int(form.values["district"]) if form.values["district"] else None,
                                form.values["email_notifications"] == "yes")
    return redirect(request, "/account", _("Your profile is saved."))


async def account_verify(request: Request) -> Response:
    user = require_user(request)
    settings = request.app.state.settings
    data = await read_form(request)
    id_number = field_str(data, "id_number", 40)
    now = request.state.now
    key = f"census:{user.id}"
    with db(request, write=True) as s:
        if ratelimit.is_limited(s, key, settings.signin_rate_limit, now):
            raise HTTPException(429)
        ratelimit.record_hit(s, key, settings.signin_rate_limit, now)
        person = s.get(User, user.id)
        other = bool(id_number) and services.claims_another_entry(
            s, user.id or 0, services.census_hash(settings.census_salt, id_number))
        ok = bool(id_number) and person is not None and not other and services.claim_census(
            s, person, settings.census_salt, id_number, now, settings.secret_key)
    if other:
        return redirect(request, "/account", _("Your account is already verified with another "
                                               "ID number. One account verifies one person."),
                        "error")
    if not ok:
        return redirect(request, "/account", _("This ID number is not on the city's resident "
                                               "list, or it already verified another account."),
                        "error")
    return redirect(request, "/account", _("You are now a verified resident."))


async def language(request: Request) -> Response:
    data = await read_form(request)
    locale = field_str(data, "locale", 5)
    if locale not in LOCALES:
        raise HTTPException(422, _("Choose one of the listed languages."))
    request.state.lang_cookie = locale
    user = request.state.user
    if user is not None:
        with db(request, write=True) as s:
            fresh = s.get(User, user.id)
            fresh.locale = locale
            s.add(fresh)
    return RedirectResponse(safe_next(field_str(data, "next", 500) or None), status_code=303)


async def terms(request: Request) -> Response:
    """The terms residents agree to when they sign up: short, and in their language."""
    return render(request, "accounts/terms.html")


routes = [
    Route("/signup", signup, methods=["GET", "POST"], name="signup"),
    Route("/confirm/{token}", confirm, methods=["GET", "POST"], name="confirm"),
    Route("/signin", signin, methods=["GET", "POST"], name="signin"),
    Route("/signout", signout, methods=["POST"], name="signout"),
    Route("/password/forgot", forgot, methods=["GET", "POST"], name="forgot"),
    Route("/password/reset/{token}", reset, methods=["GET", "POST"], name="reset"),
    Route("/signin/oidc/{provider}", oidc_start, methods=["POST"], name="oidc_start"),
    Route("/signin/oidc/{provider}/callback", oidc_callback, name="oidc_callback"),
    Route("/terms", terms, name="terms"),
    Route("/account", account, methods=["GET", "POST"], name="account"),
    Route("/account/verify", account_verify, methods=["POST"], name="verify"),
    Route("/language", language, methods=["POST"], name="language"),
]
