"""Every email the identity area sends, in one place: subject and text per kind (an admin may
reword each on /admin/settings; core.mail_wording).

Texts carry links and account notices only, never patient data. ``queue`` puts a message into the
caller's transaction (core.mail / core.jobs send it after the commit).
"""

from __future__ import annotations

from sqlmodel import Session

from patient_portal.core import mail, mail_wording
from patient_portal.core.mail_wording import Template
from patient_portal.domain.identity.models import User
from patient_portal.settings import get_settings

_IGNORE = "If it was not you, ignore this email"
_BASE = {"base": "https://portal.example-clinic.org"}
_LINK = {"link": "https://portal.example-clinic.org/reset-password?t=…"}
TEMPLATES: dict[str, Template] = {t.key.removeprefix("account."): t for t in (
    Template(
        "account.reset_link", "Account: choose a new password",
        "Choose a new password for Patient Portal",
        "Someone (hopefully you) asked to choose a new password for the Patient Portal account of this email "
        "address.\n\nOpen this link within {valid} to choose it:\n{link}\n\nThe link works once. "
        f"{_IGNORE}: your password stays as it is.\n",
        {**_LINK, "valid": "30 minutes", **_BASE}, required=("link",)),
    Template(
        "account.admin_reset_link", "Account: the clinic sent a password link",
        "Choose a password for Patient Portal",
        "The clinic sent you this link to choose a (new) password for your Patient Portal account. Opening it "
        "also confirms your email address.\n\nOpen it within {valid}:\n{link}\n\nThe link works once. "
        f"{_IGNORE.replace('it was not you', 'you did not ask the clinic for it')}: your password stays as it is.\n",
        {**_LINK, "valid": "24 hours", **_BASE}, required=("link",)),
    Template(
        "account.password_changed", "Account: password changed",
        "Your Patient Portal password was changed",
        "The password of your Patient Portal account was just changed {how}. If that was not you, call the "
        "clinic straight away.\n",
        {"how": "from the account page", **_BASE}),
    Template(
        "account.verify_link", "Account: confirm the email address",
        "Confirm your email address for Patient Portal",
        "Welcome to Patient Portal. Open this link within 24 hours to confirm your email address and finish "
        f"creating your account:\n{{link}}\n\n{_IGNORE}: the account stays unusable and nothing else happens.\n",
        {"link": "https://portal.example-clinic.org/verify-email?t=…", **_BASE}, required=("link",)),
    Template(
        "account.existing_account", "Account: someone registered with this address again",
        "You already have a Patient Portal account",
        "Someone (hopefully you) tried to create a Patient Portal account with this email address, which "
        "already has one.\n\nSign in: {base}/login\nForgotten password: {base}/forgot-password\n\n"
        f"{_IGNORE}: nothing was changed.\n",
        dict(_BASE), required=("base",)),
    Template(
        "account.new_sign_in", "Account: new sign-in",
        "New sign-in to your Patient Portal account",
        "Your Patient Portal account was just signed in to from {device} ({ip}), {when}.\n\nIf that was you, "
        "there is nothing to do. If it was not, change your password now and sign that device out:\n"
        "{base}/account/security\n",
        {"device": "Chrome on Android", "ip": "203.0.113.7", "when": "Tue 8 Dec, 09:30", **_BASE}),
    # To the contact address on a clinic record (not an account): no name, no record number, no contents.
    Template(
        "account.record_linked", "Account: an online account was linked to a record",
        "An online account was linked to your clinic record",
        "The clinic linked a Patient Portal online account to the patient record that has this email address "
        "on file ({when}). That account can now see the record.\n\nIf you set up that account, there is "
        "nothing to do; sign in at {base}/login.\nIf you did not, call the clinic straight away so the link "
        "can be removed.\n",
        {"when": "Tue 8 Dec, 09:30", **_BASE}),
)}


def _mail(kind: str, to: str, values: dict[str, str]) -> mail.Mail:
    subject, text = mail_wording.render(TEMPLATES[kind], base=get_settings().public_url, **values)
    return mail.Mail(to=to, subject=subject, text=text)


def message(kind: str, user: User, **values: str) -> mail.Mail:
    return _mail(kind, user.email, values)


def queue(session: Session, kind: str, user: User, **values: str) -> None:
    """Send `kind` to the account's address once the caller's transaction commits."""
    mail.queue(session, message(kind, user, **values))


def queue_to_address(session: Session, kind: str, address: str, **values: str) -> None:
    """Send `kind` to an address that is not an account's (a record's contact email) after the commit."""
    mail.queue(session, _mail(kind, address, values))
