"""Validation of account forms: each returns cleaned values and field errors."""

from __future__ import annotations

import re
import unicodedata

from starlette.datastructures import FormData

from core.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from core.forms import Form
from core.i18n import gettext as _
from core.settings import LOCALES
from core.web import as_int, field_str

EMAIL_RE = re.compile(r"^[^@\s<>\"'();,]{1,64}@[^@\s<>\"'();,]{1,190}\.[^@\s<>\"'();,.]{2,}$")


def _password(form: Form, data: FormData, name: str = "password") -> None:
    raw = data.get(name)
    password = raw if isinstance(raw, str) else ""
    if not password:
        form.errors[name] = _("Enter a password.")
    elif len(password) < MIN_LENGTH:
        form.errors[name] = _("Use at least %(n)s characters.", n=MIN_LENGTH)
    elif len(password) > MAX_LENGTH:
        form.errors[name] = _("Use at most %(n)s characters.", n=MAX_LENGTH)
    form.values[name] = password


def _email(form: Form, data: FormData) -> None:
    email = field_str(data, "email", 254)
    form.values["email"] = email
    if not email:
        form.errors["email"] = _("Enter your e-mail address.")
    elif len(email) > 254 or not EMAIL_RE.match(email):
        form.errors["email"] = _("Enter an e-mail address like name@example.kg.")


def _display_name(form: Form, data: FormData) -> None:
    # Bidi overrides and zero-width characters (format characters) would let a name disguise
    # itself or the text around it; they are removed, as in idea fields.
    name = " ".join("".join(ch for ch in unicodedata.normalize("NFC", field_str(
        data, "display_name", 80)) if unicodedata.category(ch) != "Cf").split())
    form.values["display_name"] = name
    if not name:
        form.errors["display_name"] = _("Enter the name others will see.")
    elif len(name) > 80:
        form.errors["display_name"] = _("Use at most %(n)s characters.", n=80)
    elif any(ord(ch) < 32 for ch in name):
        form.errors["display_name"] = _("Remove control characters from the name.")


def signup_form(data: FormData) -> Form:
    form = Form()
    _email(form, data)
    _display_name(form, data)
    _password(form, data)
    confirm = data.get("password_confirm")
    if form.values["password"] and confirm != form.values["password"]:
        form.errors.setdefault("password_confirm", _("The two passwords differ."))
    if data.get("accept_terms") != "yes":
        form.errors["accept_terms"] = _("Agree to the rules to create an account.")
    return form


def signin_form(data: FormData) -> Form:
    form = Form()
    form.values["email"] = field_str(data, "email", 254)
    raw = data.get("password")
    form.values["password"] = raw if isinstance(raw, str) else ""
    if not form.values["email"]:
        form.errors["email"] = _("Enter your e-mail address.")
    if not form.values["password"]:
        form.errors["password"] = _("Enter your password.")
    return form


def email_form(data: FormData) -> Form:
    form = Form()
    _email(form, data)
    return form


def new_password_form(data: FormData) -> Form:
    form = Form()
    _password(form, data)
    if form.values["password"] and data.get("password_confirm") != form.values["password"]:
        form.errors.setdefault("password_confirm", _("The two passwords differ."))
    return form


def profile_form(data: FormData, district_ids: set[int]) -> Form:
    form = Form()
    _display_name(form, data)
    locale = field_str(data, "locale", 5)
    if locale and locale not in LOCALES:
        form.errors["locale"] = _("Choose one of the listed languages.")
    form.values["locale"] = locale
    district = field_str(data, "district", 12)
    if district and as_int(district) not in district_ids:
        form.errors["district"] = _("Choose one of the listed districts.")
    form.values["district"] = district
    form.values["email_notifications"] = "yes" if data.get("email_notifications") == "yes" else ""
    return form
