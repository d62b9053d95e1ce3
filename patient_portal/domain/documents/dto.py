"""What callers hand in (validated metadata) and get back (DTOs with only what the actor may see)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from patient_portal.core.db import utcnow
from patient_portal.core.errors import Invalid, NotFound
from patient_portal.domain.documents.models import CATEGORY_LABELS, Category

TITLE_MAX = 200
SOURCE_MAX = 200
NOTE_MAX = 2000
FILENAME_MAX = 255
REASON_MIN = 5


class DocumentInvalid(Invalid):
    """Field-level problems with what was entered; `errors` maps field name to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()), errors)


class DocumentNotFound(NotFound):
    def __init__(self, message: str = "That document does not exist or has been removed."):
        super().__init__(message)


@dataclass(frozen=True)
class DocumentMeta:
    """Validated description of an upload."""

    category: Category
    title: str
    service_date: date | None = None
    source: str | None = None
    note: str | None = None
    hold_until: date | None = None


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _date(value: Any, name: str, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[name] = "Enter a date like 2026-03-14."
        return None


def clean_filename(name: Any) -> str:
    """The file's base name without folders or control characters; DocumentInvalid if unusable."""
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if not base or base in {".", ".."}:
        raise DocumentInvalid({"file": "The file needs a name."})
    if len(base) > FILENAME_MAX:
        raise DocumentInvalid({"file": f"The file name is longer than {FILENAME_MAX} characters."})
    return base


def validate_meta(data: dict[str, Any], *, today: date | None = None) -> DocumentMeta:
    """Check an upload's fields; raises DocumentInvalid naming each field that is wrong."""
    today = today or utcnow().date()
    errors: dict[str, str] = {}
    try:
        category = Category(str(data.get("category") or ""))
    except ValueError:
        errors["category"] = "Choose what kind of document this is."
        category = Category.OTHER
    title = _text(data.get("title"))
    if not title:
        errors["title"] = "Give the document a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    service_date = _date(data.get("service_date"), "service_date", errors)
    if service_date and service_date > today:
        errors["service_date"] = "The date of service can't be in the future."
    elif service_date and service_date.year < 1900:
        errors["service_date"] = "Check the year of the date of service."
    source = _text(data.get("source")) or None
    if source and len(source) > SOURCE_MAX:
        errors["source"] = f"Keep the source under {SOURCE_MAX} characters."
    note = str(data.get("note") or "").strip() or None
    if note and len(note) > NOTE_MAX:
        errors["note"] = f"Keep the note under {NOTE_MAX} characters."
    hold_until = _date(data.get("hold_until"), "hold_until", errors)
    if hold_until and hold_until <= today:
        errors["hold_until"] = "The release date must be after today."
    if errors:
        raise DocumentInvalid(errors)
    return DocumentMeta(category, title, service_date, source, note, hold_until)


@dataclass(frozen=True)
class DocumentSummary:
    """One document as this actor may see it. `restricted`: held back — no title, source or content."""

    id: uuid.UUID
    patient_id: uuid.UUID
    category: str
    category_label: str
    title: str
    service_date: date | None
    source: str | None
    note: str | None
    provided_by_patient: bool
    uploaded_by_name: str
    uploaded_at: datetime
    version: int
    kind: str
    size_bytes: int
    previewable: bool
    status: str
    hold_until: date | None
    restricted: bool
    deleted_at: datetime | None = None
    delete_reason: str | None = None
    can_add_version: bool = False
    can_delete: bool = False
    can_hold: bool = False
    can_purge: bool = False
    can_restore: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VersionInfo:
    number: int
    filename: str
    kind: str
    size_bytes: int
    uploaded_by_name: str
    uploaded_at: datetime
    replaced_by_name: str | None
    replaced_at: datetime | None
    current: bool
    available: bool


@dataclass(frozen=True)
class DocumentPage:
    items: list[DocumentSummary]
    total: int
    page: int
    page_size: int
    pages: int = field(init=False)
    #: documents marked sensitive the viewer does not see (the list says that something is withheld)
    withheld: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", max(1, -(-self.total // self.page_size)))


@dataclass(frozen=True)
class OpenedFile:
    """A verified file ready to send."""

    filename: str
    media_type: str
    size_bytes: int
    chunks: Any  # Iterator[bytes]


def category_label(category: str) -> str:
    try:
        return CATEGORY_LABELS[Category(category)]
    except ValueError:
        return "Document"
