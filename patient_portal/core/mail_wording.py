"""The wording of the notification emails: each kind of email is a ``Template`` that an admin may
reword on /admin/settings (issue 17); ``render`` gives the subject and text in force.

An area declares its templates next to the code that sends them (``Template(key=…, …)``) and renders
them with ``render(template, **values)``; domain/configuration lists them all for the admin. The
admin's wording is kept in the clinic's settings row (core.clinic_config), so a change is in use in
every app process within a second. Why the checks (``check``): a reworded email must still carry what
it exists for (a reset email without its link is useless), and may only use the template's own
placeholders — which hold links, times and names, never clinical data (core.mail's rule) — by plain
name: ``{link}``, not ``{link.__class__}``, so no typed text can reach into Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter

from patient_portal.core import clinic_config

SUBJECT_MAX, TEXT_MAX = 150, 3000


@dataclass(frozen=True)
class Template:
    """One kind of email. `fields` name its placeholders, each with an example the preview shows;
    `required` are those the text must keep (the links the email is for)."""

    key: str  # "appointments.booked": kept in the settings, never shown
    label: str  # "Appointment booked", as the admin sees it
    subject: str
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()


def _names(words: str) -> tuple[set[str], str]:
    """The placeholders in `words`, and a problem with how they are written ('' if none)."""
    names: set[str] = set()
    try:
        for _literal, name, spec, conversion in Formatter().parse(words):
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion:
                return names, "Write a placeholder as its name in braces, for example {link}."
            names.add(name)
    except ValueError:
        return names, "A brace is not closed. Write a placeholder as {name}, or a brace as {{ or }}."
    return names, ""


def check(template: Template, subject: str, text: str) -> dict[str, str]:
    """The problems of this wording, a message per field ("subject", "text"); empty when it may be saved."""
    errors: dict[str, str] = {}
    for name, words, most in (("subject", subject, SUBJECT_MAX), ("text", text, TEXT_MAX)):
        if not words.strip():
            errors[name] = "Write the " + ("subject." if name == "subject" else "email's text.")
        elif len(words) > most:
            errors[name] = f"Keep it to {most} characters (it has {len(words)})."
        elif "<" in words or ">" in words:
            errors[name] = "Plain words only: emails are sent as plain text."
        else:
            used, problem = _names(words)
            unknown = sorted(used - set(template.fields))
            if problem:
                errors[name] = problem
            elif unknown:
                errors[name] = (f"This email has no {{{unknown[0]}}}. It can use: "
                                + ", ".join(f"{{{f}}}" for f in template.fields) + "." if template.fields
                                else f"This email has no {{{unknown[0]}}}: write it without placeholders.")
            elif name == "text" and (missing := [f for f in template.required if f not in used]):
                errors[name] = f"Keep {{{missing[0]}}}: the email is there to give it."
    if "subject" not in errors and "\n" in subject.strip():
        errors["subject"] = "A subject is one line."
    return errors


def wording(template: Template) -> tuple[str, str]:
    """The subject and text in force: the admin's, if they reworded it, or the template's own."""
    saved = clinic_config.current().email_wording.get(template.key)
    if isinstance(saved, dict) and saved.get("subject") and saved.get("text"):
        return str(saved["subject"]), str(saved["text"])
    return template.subject, template.text


def render(template: Template, **values: str) -> tuple[str, str]:
    """The subject and text to send, placeholders filled in (values it does not use are ignored)."""
    subject, text = wording(template)
    return _fill(subject, values).strip(), _fill(text, values)


def sample(template: Template, subject: str, text: str) -> tuple[str, str]:
    """This wording filled with the template's examples (the admin's preview); checked first."""
    return _fill(subject, template.fields).strip(), _fill(text, template.fields)


def _fill(words: str, values: dict[str, str]) -> str:
    try:
        return words.format_map(_Values(values))
    except (ValueError, KeyError, IndexError, AttributeError):  # saved before a template changed: send it as written
        return words


class _Values(dict):
    """Missing placeholders stay as written rather than failing the email."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
