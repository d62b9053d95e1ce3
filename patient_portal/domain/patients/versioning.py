"""Optimistic concurrency for a patient's record, shared by every area that edits part of it.

A save names the record version it was loaded at. When the record moved on since, the save goes
through only if nobody touched the same section; otherwise ``Conflict`` lists what changed and
nothing is written. The patient's ``version`` counts saves to any section (profile, insurance,
emergency contacts), so each area diffs its own section rather than refusing every stale save.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from patient_portal.core import audit
from patient_portal.core.access import Action, Actor
from patient_portal.core.db import utcnow
from patient_portal.domain.patients.common import Conflict, as_uuid, guard, load
from patient_portal.domain.patients.models import Patient
from patient_portal.domain.patients.validation import ValidationFailed

Diff = Callable[[Any, Any], list[str]]


def check_version(current: Any, base: Any, submitted: Any, version: int, expected: int, diff: Diff) -> None:
    """Raise Conflict when the record moved past `expected` and the section differs from `base`."""
    if int(expected) == version:
        return
    changed = diff(current, base if base is not None else submitted)
    if changed:
        raise Conflict(changed, current, version)


def rows_diff(label: str, id_field: str = "order") -> Diff:
    """A diff of two lists of form rows keyed by `id_field`: "policy (primary): payer", "… added"."""
    def diff(current: list[dict], base: list[dict]) -> list[str]:
        def keyed(rows):
            return {r.get(id_field) or str(i): {k: v for k, v in r.items() if k != "id"} for i, r in enumerate(rows)}

        cur, old = keyed(current), keyed(base or [])
        out = []
        for key in sorted(set(cur) | set(old)):
            a, b = cur.get(key), old.get(key)
            if a is None or b is None:
                out.append(f"{label} ({key}) {'added' if b is None else 'removed'}")
            else:
                out += [f"{label} ({key}): {k.replace('_', ' ')}" for k in sorted(set(a) | set(b))
                        if str(a.get(k) or "") != str(b.get(k) or "")]
        return out
    return diff


def bump(patient: Patient, actor: Actor) -> None:
    """Count a save to the record (who and when)."""
    patient.version += 1
    patient.updated_by = actor.user_id
    patient.updated_at = utcnow()


def replace_rows(session: Session, actor: Actor, *, patient_id: Any, rows: list[dict], action: Action, label: str,
                 validate: Callable[[list[dict]], dict[str, str]],
                 read: Callable[[Session, Any], list[dict]], write: Callable[[Session, Any, list[dict]], None],
                 expected_version: int, base: list[dict] | None) -> list[dict]:
    """Make a patient's rows of one section equal `rows` at `expected_version`; returns what is on file.

    The one body of "replace a list section" (insurance policies, emergency contacts): authorize,
    load the record, validate, diff against what is on file, write, count the save, audit.
    """
    pid = as_uuid(patient_id)
    guard(session, actor, action, patient_id=pid)
    patient = load(session, pid)  # before validation: no "fix these fields" for a record that isn't there
    rows = [dict(r) for r in rows or []]
    errors = validate(rows)
    if errors:
        raise ValidationFailed(errors)
    current = read(session, pid)
    check_version(current, base, rows, patient.version, expected_version, rows_diff(label))
    changed = rows_diff(label)(rows, current)
    write(session, pid, rows)
    bump(patient, actor)
    session.add(patient)
    audit.record(session, actor, str(action), patient_id=pid, object_type=label, object_id=pid,
                 detail={"fields_changed": changed, "count": len(rows), "version": patient.version})
    return read(session, pid)
