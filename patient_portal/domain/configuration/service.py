"""Configuration use cases: an admin reads and saves the clinic's settings and its logo.

Every save is checked (validation.py), refused when someone else saved since the form was opened,
and audited with each changed field's value before and after (the settings hold no PHI). Once the
save commits, this process drops its copy at once and every other process sees the new row within
a second (core.clinic_config), so a new time zone or session timeout is in force without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, select

from patient_portal.core import audit, clinic_config, mail_wording
from patient_portal.core.access import Action, Actor, require
from patient_portal.core.clinic_config import ClinicSettings
from patient_portal.core.db import utcnow
from patient_portal.core.errors import Conflict, Invalid
from patient_portal.domain.configuration import validation, wording

#: the logo's largest size, and the image kinds taken (by their first bytes, not the file name)
LOGO_MAX_BYTES = 256 * 1024
TOO_BIG, NOT_AN_IMAGE = "The logo must be 256 KB or smaller.", "Choose a PNG or JPEG image."
_LOGO_KINDS = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
#: the fields a save compares and audits, in the form's order
FIELDS = ("clinic_name", "clinic_address", "clinic_phone", "timezone", "business_hours",
          "session_idle_minutes", "session_absolute_hours", "require_mfa", "email_signature")


@dataclass(frozen=True)
class SettingsView:
    """The settings as the form shows them; `version` 0 means nothing is saved yet (the
    environment's values), `mfa_forced` that the environment requires MFA whatever is saved."""

    values: dict[str, Any]
    version: int
    has_logo: bool
    mfa_forced: bool


def _configure(session: Session, actor: Actor | None, what: str) -> None:
    require(session, actor, Action.SYSTEM_CONFIGURE, audit_as=what, object_type="clinic_settings")


def _row(session: Session) -> ClinicSettings | None:
    return session.exec(select(ClinicSettings).limit(1)).first()


def _view(profile: clinic_config.ClinicProfile) -> SettingsView:
    base = clinic_config.from_environment()
    values = {"clinic_name": profile.clinic_name, "clinic_address": profile.clinic_address,
              "clinic_phone": profile.clinic_phone, "timezone": profile.timezone,
              "business_hours": {k: list(v) for k, v in profile.business_hours.items()},
              "session_idle_minutes": max(1, round(profile.session_idle_seconds / 60)),
              "session_absolute_hours": max(1, round(profile.session_absolute_seconds / 3600)),
              "require_mfa": profile.require_mfa, "email_signature": profile.email_signature}
    return SettingsView(values, profile.version, profile.has_logo, base.require_mfa)


def _forget_after_commit(session: Session) -> None:
    event.listen(session, "after_commit", lambda _s: clinic_config.forget(), once=True)


def get(session: Session, actor: Actor | None) -> SettingsView:
    """The settings in force, as the admin's form shows them."""
    _configure(session, actor, "system.settings.read")
    row = _row(session)
    values = None if row is None else {**row.model_dump(), "has_logo": row.logo is not None}
    return _view(clinic_config.profile_of(values))


def save(session: Session, actor: Actor | None, *, values: dict[str, Any], expected_version: Any = None
         ) -> SettingsView:
    """Check and save the settings, at the version the form was opened (0: none saved yet)."""
    _configure(session, actor, "system.settings.save")
    assert actor is not None
    cleaned, errors = validation.clean(values)
    if errors:
        raise Invalid(errors=errors)
    row = _row(session)
    before = get(session, actor).values
    current_version = row.version if row else 0
    if expected_version is not None and str(expected_version) != str(current_version):
        raise Conflict("Someone else saved the settings since you opened them. Reload and try again.")
    if row is None:
        row = ClinicSettings(**cleaned, version=1, updated_by=str(actor.user_id))
    else:
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.version += 1
        row.updated_at, row.updated_by = utcnow(), str(actor.user_id)
    after = _view(clinic_config.profile_of({**row.model_dump(), "has_logo": row.logo is not None})).values
    changed = {f: {"before": before[f], "after": after[f]} for f in FIELDS if before[f] != after[f]}
    session.add(row)
    session.flush()
    audit.record(session, actor, "system.settings.save", object_type="clinic_settings", object_id=row.id,
                 detail={"changed": changed})
    _forget_after_commit(session)
    return _view(clinic_config.profile_of({**row.model_dump(), "has_logo": row.logo is not None}))


def _row_to_change(session: Session, actor: Actor, row: ClinicSettings | None = None) -> ClinicSettings:
    """The settings row (`row`, if the caller read it already), or a new one holding the values in
    force (the first save of anything)."""
    row = row if row is not None else _row(session)
    return row if row is not None else ClinicSettings(**validation.clean(get(session, actor).values)[0], version=0)


def _saved(session: Session, row: ClinicSettings, actor: Actor) -> None:
    """A changed row written at its next version (what makes every process read it again)."""
    row.version += 1
    row.updated_at, row.updated_by = utcnow(), str(actor.user_id)
    session.add(row)
    session.flush()


def _logo_kind(data: bytes) -> str | None:
    return next((kind for magic, kind in _LOGO_KINDS if data.startswith(magic)), None)


def save_logo(session: Session, actor: Actor | None, *, data: bytes | None) -> None:
    """Set the clinic's logo (a PNG or JPEG of at most 256 KB), or remove it (`data` None)."""
    _configure(session, actor, "system.settings.logo")
    assert actor is not None
    kind = None
    if data is not None:
        if len(data) > LOGO_MAX_BYTES:
            raise Invalid(TOO_BIG, errors={"logo": TOO_BIG})
        kind = _logo_kind(data)
        if kind is None:
            raise Invalid(NOT_AN_IMAGE, errors={"logo": NOT_AN_IMAGE})
    row = _row_to_change(session, actor)
    row.logo, row.logo_type = data, kind or ""
    _saved(session, row, actor)
    audit.record(session, actor, "system.settings.logo", object_type="clinic_settings", object_id=row.id,
                 detail={"logo": "removed" if data is None else f"{kind}, {len(data)} bytes"})
    _forget_after_commit(session)


def logo(session: Session) -> tuple[bytes, str] | None:
    """The clinic's logo and its type, for anyone (it is on the sign-in page); None when there is none."""
    row = session.exec(select(ClinicSettings.logo, ClinicSettings.logo_type).limit(1)).first()
    return (row[0], row[1]) if row and row[0] else None


# ---------------------------------------------------------------- the wording of notification emails


@dataclass(frozen=True)
class EmailWording:
    """One email as the wording page shows it: the wording in force, the standard one, its placeholders
    (name → example) and those it must keep; `reworded` when the clinic's own wording is in force."""

    key: str
    label: str
    subject: str
    text: str
    standard_subject: str
    standard_text: str
    fields: dict[str, str]
    required: tuple[str, ...]
    reworded: bool


@dataclass(frozen=True)
class WordingView:
    emails: list[EmailWording]
    version: int


def _wording_view(row: ClinicSettings | None) -> WordingView:
    saved = dict(row.email_wording or {}) if row is not None else {}
    emails = []
    for key, t in wording.TEMPLATES.items():
        own = saved.get(key) or {}
        emails.append(EmailWording(key, t.label, own.get("subject") or t.subject, own.get("text") or t.text,
                                   t.subject, t.text, dict(t.fields), t.required, bool(own)))
    return WordingView(emails, row.version if row is not None else 0)


def email_wording(session: Session, actor: Actor | None) -> WordingView:
    """Every notification email's wording, as the admin's wording page lists them."""
    _configure(session, actor, "system.settings.email.read")
    return _wording_view(_row(session))


def save_email_wording(session: Session, actor: Actor | None, *, key: Any, subject: Any = "", text: Any = "",
                       standard: bool = False, expected_version: Any = None) -> WordingView:
    """Reword one email (checked by core.mail_wording.check), or put it back to the standard wording
    (`standard`). Audited with the wording before and after; in use in every process within a second."""
    _configure(session, actor, "system.settings.email.save")
    assert actor is not None
    template = wording.TEMPLATES.get(str(key))
    if template is None:
        raise Invalid("Choose one of the emails in the list.")
    subject = str(subject or "").replace("\r\n", "\n").strip()
    text = str(text or "").replace("\r\n", "\n").strip() + "\n"
    if not standard:
        problems = mail_wording.check(template, subject, text)
        if problems:
            raise Invalid(errors=problems)
    row = _row(session)
    if expected_version is not None and str(expected_version) != str(row.version if row else 0):
        raise Conflict("Someone else saved the settings since you opened them. Reload and try again.")
    row = _row_to_change(session, actor, row)  # read once, just above
    saved = dict(row.email_wording or {})
    before = saved.get(template.key) or {"subject": template.subject, "text": template.text}
    if standard or (subject, text) == (template.subject, template.text):
        saved.pop(template.key, None)
    else:
        saved[template.key] = {"subject": subject, "text": text}
    row.email_wording = saved  # a new dict: the JSON column is written
    after = saved.get(template.key) or {"subject": template.subject, "text": template.text}
    _saved(session, row, actor)
    audit.record(session, actor, "system.settings.email.save", object_type="clinic_settings", object_id=row.id,
                 detail={"email": template.key, "standard": template.key not in saved,
                         "changed": {f: {"before": before[f], "after": after[f]} for f in ("subject", "text")
                                     if before[f] != after[f]}})
    _forget_after_commit(session)
    return _wording_view(row)
