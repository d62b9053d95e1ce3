"""FHIR search over one patient's compartment: parameters, filters, sort, paging links.

Matching runs on the serialized resources of the patient's record (a compartment is small and the
services already authorized and audited its read), so every type answers the same parameters the
same way. Unknown parameters are ignored, or refused with 400 under ``Prefer: handling=strict``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

#: Parameters every type takes, and each type's own.
COMMON = {"_id", "_count", "_sort", "_include", "_revinclude", "_getpagesoffset", "_format", "_total",
          "_lastUpdated"}
BY_TYPE: dict[str, set[str]] = {
    "Patient": {"identifier", "family", "given", "birthdate", "gender"},
    "Condition": {"patient", "subject", "code", "clinical-status", "category", "onset-date"},
    "AllergyIntolerance": {"patient", "code", "clinical-status", "category", "criticality"},
    "MedicationStatement": {"patient", "subject", "code", "status", "effective"},
    "Immunization": {"patient", "vaccine-code", "status", "date"},
    "Observation": {"patient", "subject", "code", "category", "date", "status"},
    "RelatedPerson": {"patient"},
    "Coverage": {"patient", "beneficiary", "status"},
    "MedicationRequest": {"patient", "subject", "code", "status", "intent", "authoredon"},
    "Encounter": {"patient", "subject", "date", "status", "class"},
    "Appointment": {"patient", "date", "status", "practitioner"},
    "DocumentReference": {"patient", "subject", "category", "type", "date", "status"},
    "CarePlan": {"patient", "subject", "category", "status", "date"},
    "Goal": {"patient", "subject", "lifecycle-status", "achievement-status"},
    "Consent": {"patient", "status", "category", "date"},
    "Practitioner": {"name"},
    "Schedule": {"actor", "active", "service-type"},
    "Slot": {"schedule", "service-type", "start", "status"},
    "Group": set(),
    "AuditEvent": {"patient", "entity"},
    "Claim": {"patient", "status", "identifier"},
    "ClaimResponse": {"patient", "status", "identifier"},
    "ExplanationOfBenefit": {"patient", "status", "identifier"},
}
MAX_COUNT, DEFAULT_COUNT = 200, 50
#: _include / _revinclude pairs: every listed type references its patient.
PATIENT_REF = {"Condition": "subject", "AllergyIntolerance": "patient", "MedicationStatement": "subject",
               "Immunization": "patient", "Observation": "subject", "RelatedPerson": "patient",
               "Coverage": "beneficiary", "MedicationRequest": "subject", "Encounter": "subject",
               "Appointment": "patient", "DocumentReference": "subject", "CarePlan": "subject", "Goal": "subject",
               "Consent": "patient", "Claim": "patient", "ClaimResponse": "patient",
               "ExplanationOfBenefit": "patient"}


class BadSearch(ValueError):
    """A parameter that cannot be understood (400)."""


@dataclass
class Query:
    rtype: str
    params: list[tuple[str, str]]
    strict: bool = False
    count: int = DEFAULT_COUNT
    offset: int = 0
    unknown: list[str] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.params if k.split(":")[0] == name]

    def first(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None


def parse(rtype: str, params: list[tuple[str, str]], *, strict: bool) -> Query:
    """A checked query: _count in 0..200, unknown names recorded (400 when strict)."""
    known = COMMON | BY_TYPE.get(rtype, set())
    query = Query(rtype, [(k, v) for k, v in params], strict)
    for name, _value in params:
        if name.split(":")[0] not in known:
            query.unknown.append(name)
    if strict and query.unknown:
        raise BadSearch(f"Unknown search parameter: {query.unknown[0]}")
    for name, target in (("_count", "count"), ("_getpagesoffset", "offset")):
        raw = query.first(name)
        if raw is not None:
            if not raw.isdigit():
                raise BadSearch(f"{name} must be a whole number")
            setattr(query, target, int(raw))
    query.count = min(query.count, MAX_COUNT)
    return query


def patient_ids(query: Query) -> list[str]:
    """The patient ids the query names (``patient``/``subject``, or ``_id`` on Patient)."""
    names = ("_id",) if query.rtype == "Patient" else ("patient", "subject", "beneficiary")
    out = []
    for name in names:
        for value in query.values(name):
            out.extend(v.removeprefix("Patient/").strip() for v in value.split(",") if v.strip())
    return out


@dataclass(frozen=True)
class Narrow:
    """What an Observation search (or read by id) can be narrowed to in SQL: LOINC codes (None:
    any), a time window [start, end) in UTC, whether vital signs and lab results can match at all,
    and one vital set or one lab result (a read by id). Always a superset of what ``matches``
    keeps: the areas filter with it, the router still filters exactly."""

    codes: frozenset[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    vitals: bool = True
    labs: bool = True
    set_id: uuid.UUID | None = None
    result_id: uuid.UUID | None = None


def _period(text: str) -> tuple[date, date] | None:
    """The days a FHIR date (year, year-month, date or dateTime) covers: [first, after)."""
    try:
        if len(text) == 4:
            year = int(text)
            return date(year, 1, 1), date(year + 1, 1, 1)
        if len(text) == 7:
            first = date(int(text[:4]), int(text[5:7]), 1)
            return first, (first + timedelta(days=32)).replace(day=1)
        first = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return first, first + timedelta(days=1)


def narrow(query: Query) -> Narrow:
    """The SQL narrowing of an Observation search: ``code`` (alternatives; several params: all of
    them), ``category`` (vital-signs / laboratory) and ``date`` (eq, ge, gt, le, lt), each bound
    widened by a day so that it never drops what ``matches`` would keep."""
    codes: frozenset[str] | None = None
    vitals = labs = True
    start: datetime | None = None
    end: datetime | None = None
    for name, value in query.params:
        alternatives = {v.rpartition("|")[2] for v in value.split(",")}
        if name == "code":
            codes = frozenset(alternatives) if codes is None else codes & alternatives
        elif name == "category":
            vitals, labs = vitals and "vital-signs" in alternatives, labs and "laboratory" in alternatives
        elif name == "date":
            prefix, text = (value[:2], value[2:]) if value[:2] in ("eq", "ne", "gt", "lt", "ge", "le") else ("eq", value)
            period = _period(text)
            if period is None or prefix == "ne":
                continue
            low = datetime.combine(period[0] - timedelta(days=1), time.min, UTC)
            high = datetime.combine(period[1] + timedelta(days=1), time.min, UTC)
            if prefix in ("eq", "ge", "gt"):
                start = low if start is None else max(start, low)
            if prefix in ("eq", "le", "lt"):
                end = high if end is None else min(end, high)
    return Narrow(codes=codes, start=start, end=end, vitals=vitals, labs=labs)


def narrow_id(rid: str) -> Narrow | None:
    """The narrowing of an Observation read by id: a vital's ``<set>.<key>`` or a lab result's id."""
    head, dot, _key = rid.partition(".")
    try:
        found = uuid.UUID(head[:64])
    except ValueError:
        return None
    return Narrow(labs=False, set_id=found) if dot else Narrow(vitals=False, result_id=found)


def _concept(resource: dict[str, Any]) -> dict[str, Any]:
    for key in ("code", "vaccineCode", "medicationCodeableConcept", "type"):
        if key in resource:
            return resource[key]
    return {}


def _token_match(concepts: list[dict[str, Any]], wanted: str) -> bool:
    system, sep, code = wanted.rpartition("|")
    for concept in concepts:
        for coding in concept.get("coding", []):
            if coding.get("code") == code and (not sep or not system or coding.get("system") == system):
                return True
    return False


def _date_of(resource: dict[str, Any]) -> str | None:
    for key in ("effectiveDateTime", "onsetDateTime", "occurrenceDateTime", "authoredOn", "start", "date",
                "dateTime", "startDate"):
        if key in resource:
            return resource[key]
    period = resource.get("effectivePeriod") or resource.get("period")
    return period.get("start") if period else None


def _instant(text: str, *, end: bool = False) -> datetime:
    """A FHIR date or dateTime as an aware UTC instant: a date alone (or a dateTime without a zone)
    is read as UTC; with `end`, a date is its last moment."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end else time.min, UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadSearch(f"Not a date: {text[:40]}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _updated_match(value: str | None, wanted: str) -> bool:
    """``_lastUpdated`` against ``meta.lastUpdated``: eq (the same day, or instant), ne, gt, lt, ge, le.
    A date compares with the whole day: ``gt2026-12-07`` is after that day, ``le2026-12-07`` up to its end."""
    prefix, text = (wanted[:2], wanted[2:]) if wanted[:2] in ("eq", "ne", "gt", "lt", "ge", "le") else ("eq", wanted)
    if not text[:4].isdigit():
        raise BadSearch(f"Not a date: {wanted[:40]}")
    low, high = _instant(text), _instant(text, end=True)
    if value is None:
        return False
    have = _instant(value)
    return {"eq": low <= have <= high, "ne": not low <= have <= high, "gt": have > high, "lt": have < low,
            "ge": have >= low, "le": have <= high}[prefix]


def since(resources: list[dict[str, Any]], when: datetime | None) -> list[dict[str, Any]]:
    """The resources changed at or after `when` (``_since``); one without a known time is kept."""
    if when is None:
        return resources
    return [r for r in resources if "lastUpdated" not in r.get("meta", {}) or _instant(r["meta"]["lastUpdated"]) >= when]


def care_period(resources: list[dict[str, Any]], start: str | None, end: str | None) -> list[dict[str, Any]]:
    """``$everything``'s ``start`` / ``end`` (dates, inclusive): the resources whose care date
    (effective, onset, occurrence, authored, start, date …) falls in the period; one without such
    a date (the Patient, a contact, a coverage …) is kept. 400 for anything but a date."""
    bounds = []
    for name, value in (("start", start), ("end", end)):
        if value is None:
            bounds.append(None)
            continue
        try:
            bounds.append(date.fromisoformat(value.strip()[:10]).isoformat())
        except ValueError:
            raise BadSearch(f"{name} must be a date such as 2026-01-31") from None
    first, last = bounds
    out = []
    for r in resources:
        when = (_date_of(r) or "")[:10]
        if when and ((first and when < first) or (last and when > last)):
            continue
        out.append(r)
    return out


def since_param(value: str | None) -> datetime | None:
    """``_since`` as an instant (400 for anything else)."""
    return None if value is None else _instant(value.strip())


def _date_match(value: str | None, wanted: str) -> bool:
    if value is None:
        return False
    prefix, day = (wanted[:2], wanted[2:]) if wanted[:2] in ("eq", "ne", "gt", "lt", "ge", "le") else ("eq", wanted)
    if not day[:4].isdigit():
        raise BadSearch(f"Not a date: {wanted}")
    have = value[:len(day)]
    return {"eq": have == day, "ne": have != day, "gt": have > day, "lt": have < day, "ge": have >= day,
            "le": have <= day}[prefix]


def _status(resource: dict[str, Any]) -> str | None:
    if "lifecycleStatus" in resource:
        return resource["lifecycleStatus"]
    if "clinicalStatus" in resource:
        return resource["clinicalStatus"]["coding"][0]["code"]
    return resource.get("status")


def _categories(resource: dict[str, Any]) -> list[str]:
    found = resource.get("category", [])
    return [c if isinstance(c, str) else coding.get("code", "") for c in found
            for coding in ([{}] if isinstance(c, str) else c.get("coding", []))]


def matches(resource: dict[str, Any], query: Query) -> bool:
    """True when the resource passes every filter parameter of the query."""
    for name, value in query.params:
        base = name.split(":")[0]
        alternatives = value.split(",")
        if base == "_id" and resource["resourceType"] != "Patient" and resource["id"] not in alternatives:
            return False
        if base == "_lastUpdated" and not _updated_match(resource.get("meta", {}).get("lastUpdated"), value):
            return False
        if base in ("code", "vaccine-code", "type") and not any(_token_match([_concept(resource)], v) for v in alternatives):
            return False
        if base == "achievement-status" and not _token_match([resource.get("achievementStatus", {})], value):
            return False
        if base == "class" and resource.get("class", {}).get("code") not in [v.rpartition("|")[2] for v in alternatives]:
            return False
        if base == "practitioner" and not {f"Practitioner/{v.removeprefix('Practitioner/')}" for v in alternatives} & {
                p.get("actor", {}).get("reference") for p in resource.get("participant", [])}:
            return False
        if base == "name" and not any(value.lower() in n.get("text", "").lower() for n in resource.get("name", [])):
            return False
        if base in ("clinical-status", "status", "lifecycle-status") and _status(resource) not in alternatives:
            return False
        if base == "category" and not set(_categories(resource)) & {v.rpartition("|")[2] for v in alternatives}:
            return False
        if base == "criticality" and resource.get("criticality") not in alternatives:
            return False
        if base == "intent" and resource.get("intent") not in alternatives:
            return False
        if base in ("date", "onset-date", "effective", "authoredon") and not _date_match(_date_of(resource), value):
            return False
        if base == "birthdate" and not _date_match(resource.get("birthDate"), value):
            return False
        if base == "gender" and resource.get("gender") not in alternatives:
            return False
        if base == "identifier" and not _token_match([{"coding": resource.get("identifier", [])}], value.replace(
                "value", "code")) and not any(i.get("value") == value.rpartition("|")[2]
                                               for i in resource.get("identifier", [])):
            return False
        if base in ("family", "given"):
            names = [n.get("family", "") if base == "family" else " ".join(n.get("given", []))
                     for n in resource.get("name", [])]
            if not any(n.lower().startswith(value.lower()) for n in names):
                return False
    return True


def sort(resources: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """``_sort`` by date (``-date`` newest first) or _id; default: as the record lists them."""
    keys = [k for v in query.values("_sort") for k in v.split(",") if k]
    for key in reversed(keys):
        name = key.lstrip("-")
        if name == "_lastUpdated":
            resources = sorted(resources, key=lambda r: r.get("meta", {}).get("lastUpdated", ""),
                               reverse=key.startswith("-"))
        elif name in ("date", "onset-date", "effective"):
            resources = sorted(resources, key=lambda r: _date_of(r) or "", reverse=key.startswith("-"))
        elif name == "_id":
            resources = sorted(resources, key=lambda r: r["id"], reverse=key.startswith("-"))
        elif query.strict:
            raise BadSearch(f"Cannot sort by {name}")
    return resources


def links(base: str, query: Query, total: int) -> list[dict[str, str]]:
    """self, and next / previous when there are more pages (``_getpagesoffset``)."""
    kept = [(k, v) for k, v in query.params if k not in ("_getpagesoffset",)]

    def url(offset: int) -> str:
        return f"{base}/{query.rtype}?" + urlencode([*kept, ("_getpagesoffset", str(offset))])

    out = [{"relation": "self", "url": url(query.offset)}]
    if query.count and query.offset + query.count < total:
        out.append({"relation": "next", "url": url(query.offset + query.count)})
    if query.offset > 0:
        out.append({"relation": "previous", "url": url(max(0, query.offset - query.count))})
    return out
