"""Checks of what people type in the emergency screens, with messages beside the fields. No policy,
no database: the service passes in what it looked up (the patient's contacts and documents)."""

from __future__ import annotations

from datetime import date
from typing import Any

from patient_portal.domain.emergency.dto import AGENT_KINDS, CODE_STATUSES, DIRECTIVE_KINDS, WHO

MAX_DIRECTIVES = 8
MAX_INSTRUCTIONS = 10
MAX_INSTRUCTION = 120
MAX_NAME = 120
MAX_DESCRIPTION = 500
MAX_STEPS = 30
MAX_STEP = 200
MAX_OUTCOME = 4000


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def instructions(value: Any, errors: dict[str, str]) -> list[str]:
    """Special instructions: one per line (a list, or text with one per line), blank lines dropped."""
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list):
        errors["instructions"] = "Write one instruction per line."
        return []
    lines = [_text(v) for v in value if _text(v)]
    if len(lines) > MAX_INSTRUCTIONS:
        errors["instructions"] = f"Keep it to {MAX_INSTRUCTIONS} lines: the most important first."
    elif any(len(line) > MAX_INSTRUCTION for line in lines):
        errors["instructions"] = f"Keep each line under {MAX_INSTRUCTION} characters."
    return lines[:MAX_INSTRUCTIONS]


def directives(value: Any, *, contacts: set[str], documents: set[str], today: date,
               errors: dict[str, str]) -> list[dict[str, str]]:
    """Advance directives: a known kind each, a date not in the future, the agent (for a healthcare
    power of attorney) one of the patient's emergency contacts, the signed copy one of their advance
    directive documents. Errors are keyed ``directives.<index>.<field>``."""
    if not isinstance(value, list) or len(value) > MAX_DIRECTIVES:
        errors["directives"] = f"Record at most {MAX_DIRECTIVES} advance directives."
        return []
    out: list[dict[str, str]] = []
    for index, raw in enumerate(value):
        row = raw if isinstance(raw, dict) else {}
        key = f"directives.{index}."
        kind = _text(row.get("kind"))
        if kind not in DIRECTIVE_KINDS:
            errors[key + "kind"] = "Choose the kind of directive."
        on = _text(row.get("date"))
        if on:
            try:
                if date.fromisoformat(on[:10]) > today:
                    errors[key + "date"] = "The date it was signed cannot be in the future."
                on = on[:10]
            except ValueError:
                errors[key + "date"] = "Enter the date it was signed, or leave it empty."
        agent = _text(row.get("agent_contact_id"))
        if agent and agent not in contacts:
            errors[key + "agent_contact_id"] = "Choose the agent from the emergency contacts."
        elif kind in AGENT_KINDS and not agent:
            errors[key + "agent_contact_id"] = ("Choose the healthcare agent from the emergency contacts (add them "
                                                "there first).")
        document = _text(row.get("document_id"))
        if document and document not in documents:
            errors[key + "document_id"] = "Choose a signed copy from the advance directive documents on file."
        out.append({"kind": kind, "date": on, "agent_contact_id": agent, "document_id": document})
    return out


def code_status(value: Any, errors: dict[str, str]) -> str | None:
    text = _text(value)
    if not text:
        return None
    if text not in CODE_STATUSES:
        errors["code_status"] = "Choose a code status from the list."
        return None
    return text


def protocol(values: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A protocol's name, description, whether it notifies contacts and its steps (1 to 30, each with
    who does it). Errors keyed by field, ``steps.<index>.text`` / ``.who`` for a step."""
    errors: dict[str, str] = {}
    if not isinstance(values, dict):
        return {}, {"name": "Name the protocol."}
    name = _text(values.get("name"))
    if not name:
        errors["name"] = "Name the protocol, such as “Anaphylaxis”."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    description = _text(values.get("description"))
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Keep the description under {MAX_DESCRIPTION} characters."
    notify = values.get("notify_contacts")
    if not isinstance(notify, bool):
        notify = str(notify).strip().lower() in ("true", "yes", "1", "on")
    raw_steps = values.get("steps")
    steps: list[dict[str, str]] = []
    if not isinstance(raw_steps, list):
        raw_steps = []
    for index, raw in enumerate(raw_steps[:MAX_STEPS + 1]):
        row = raw if isinstance(raw, dict) else {}
        text, who = _text(row.get("text")), _text(row.get("who")) or "anyone"
        if not text and index >= len(raw_steps) - 1 and len(raw_steps) > 1:
            continue  # a blank last row the form added
        if not text:
            errors[f"steps.{index}.text"] = "Say what to do, or remove this step."
        elif len(text) > MAX_STEP:
            errors[f"steps.{index}.text"] = f"Keep a step under {MAX_STEP} characters."
        if who not in WHO:
            errors[f"steps.{index}.who"] = "Choose who does it."
        steps.append({"text": text, "who": who})
    if not steps:
        errors["steps"] = "Add at least one step."
    elif len(steps) > MAX_STEPS:
        errors["steps"] = f"Keep it to {MAX_STEPS} steps."
    return {"name": name, "description": description, "notify_contacts": notify, "steps": steps}, errors


def outcome(value: Any, errors: dict[str, str]) -> str:
    text = _text(value)
    if not text:
        errors["outcome"] = "Write how it ended (for example: “Transferred to Mass General by ambulance”)."
    elif len(text) > MAX_OUTCOME:
        errors["outcome"] = f"Keep the note under {MAX_OUTCOME} characters."
    return text
