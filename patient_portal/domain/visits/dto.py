"""What the visits service hands out, and its errors.

Clinicians get ``VisitNoteView`` (the whole note, its addenda and what this actor may do with it)
and ``VisitListItem`` rows; the patient gets ``VisitSummary`` — signed notes only, the parts a
person reads (reason, assessment, plan, diagnoses as words, addenda), never the subjective and
objective working notes, the codes or a draft. Dates are datetimes (UTC); codes are ``Coding``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patient_portal.core import errors
from patient_portal.core.coding import Coding

PAGE_SIZE = 25


class VisitInvalid(errors.Invalid):
    """The note (or addendum) breaks a rule; ``errors`` maps its fields to messages."""


class VisitNotFound(errors.NotFound):
    def __init__(self) -> None:
        super().__init__("That visit note was not found.")


class NoteLocked(errors.Conflict):
    """The note is signed: it is never changed again; corrections are addenda."""

    def __init__(self) -> None:
        super().__init__("This note is signed and can no longer be changed. Add an addendum to correct it.")


class NotSigned(errors.Conflict):
    """An addendum to a draft: a draft is edited, not amended."""

    def __init__(self) -> None:
        super().__init__("This note is still a draft: edit it instead of adding an addendum.")


class VisitConflict(errors.Conflict):
    """The draft was saved (in another tab, by its author) since it was opened. `fields` names what
    changed, `current` holds the saved note, `version` the version to save against."""

    def __init__(self, fields: list[str], current: VisitNoteView, version: int):
        super().__init__("This note was changed since you opened it: " + ", ".join(fields)
                         + ". Check the saved note, then save again.")
        self.fields = fields
        self.current = current
        self.version = version


@dataclass(frozen=True)
class Addendum:
    id: uuid.UUID
    author_name: str
    written_at: datetime
    text: str


@dataclass(frozen=True)
class VisitNoteView:
    """A whole note as a clinician (or an admin) reads it, with what this actor may do with it
    (flags from the policy's ``decide``; each action asks the policy again when it is taken)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    version: int
    status: str
    visit_at: datetime
    reason: str
    subjective: str
    objective: str
    assessment: str
    plan: str
    diagnoses: tuple[Coding, ...]
    orders: tuple[str, ...]
    author_id: uuid.UUID
    author_name: str
    signed_at: datetime | None
    addenda: tuple[Addendum, ...] = ()
    can_edit: bool = False
    can_sign: bool = False
    can_add_addendum: bool = False

    @property
    def signed(self) -> bool:
        return self.status == "signed"

    def form(self) -> dict[str, Any]:
        """The editable fields as a save takes them (for a conflict's diff and a form's base)."""
        return {"visit_at": self.visit_at.isoformat(), "reason": self.reason, "subjective": self.subjective,
                "objective": self.objective, "assessment": self.assessment, "plan": self.plan,
                "diagnoses": [coding_dict(c) for c in self.diagnoses], "orders": list(self.orders)}


@dataclass(frozen=True)
class VisitListItem:
    """One row of a chart's visits list."""

    id: uuid.UUID
    visit_at: datetime
    reason: str
    status: str
    author_name: str
    diagnoses: tuple[str, ...]
    addenda: int
    mine: bool


@dataclass(frozen=True)
class VisitSummary:
    """A signed note as the patient reads it."""

    id: uuid.UUID
    visit_at: datetime
    clinician: str
    reason: str
    assessment: str
    plan: str
    diagnoses: tuple[str, ...]
    addenda: tuple[Addendum, ...]


@dataclass(frozen=True)
class UnsignedNote:
    """A draft on its author's worklist."""

    note_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    visit_at: datetime


@dataclass(frozen=True)
class Page:
    """One page of a list, newest visit first."""

    items: list[Any]
    total: int
    page: int
    page_size: int = PAGE_SIZE
    #: notes marked sensitive the viewer does not see (the list says that something is withheld)
    withheld: int = 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def coding_dict(c: Coding) -> dict[str, str]:
    return {"system": c.system, "code": c.code, "display": c.display}
