"""Code tables: search and look up ICD-10-CM, CVX, LOINC vital signs and the formulary; load them.

The one way in for the UI, the API and the other areas (problem list, immunizations, vitals,
prescriptions). ``search`` is what a person types into; it takes the actor and asks the policy
(``codes.search``: doctors, staff, admins, and patients, who report their own medications and
allergies). Code tables hold no PHI, so searches are not audited: a search box asks on every
keystroke and the trail would fill with noise; a refusal is still recorded by ``require``.
``get``, ``formulary_entry`` and ``vital`` are lookups other services make while validating what an
already authorized actor saves, so they take no actor.

Search: the query is folded like the tables (``text``); every word must begin a word of the concept
(display, synonyms, a vaccine's full name, a drug's classes), and a query that could be a code also
matches codes by prefix (a b-tree range on the code key). Order: the exact code, codes starting with the query, then word matches;
within each, the concept's tier (common ICD-10-CM codes and active vaccines, then other codes, then
headers), names that begin with the first word, then the set's static rank (shorter codes and names
first). Each word is a b-tree range on the word index (``code_token``, read from the index
alone): the rarest word finds the candidates, or the ranges are intersected when all are common, and
only the best CANDIDATES by static rank are ordered, so a broad query ("unsp", "left") costs about
what a rare one does, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, case, func, intersect, select
from sqlmodel import Session

from patient_portal.core import access
from patient_portal.core.access import Action, Actor
from patient_portal.core.coding import RXNORM, Coding
from patient_portal.core.db import unit_of_work
from patient_portal.core.errors import Invalid
from patient_portal.domain.codes import loader, sources
from patient_portal.domain.codes import text as norm
from patient_portal.domain.codes.loader import LoadReport
from patient_portal.domain.codes.models import CodeConcept, CodeSet, CodeToken
from patient_portal.domain.codes.sources import CODE_SETS, SMALL_SETS, CodeSetSpec

__all__ = ["MAX_LIMIT", "SMALL_SETS", "FormularyEntry", "LabTest", "VitalSign", "drug_classes", "formulary_entry", "get", "lab_test",
           "load", "load_small", "loaded", "search", "vital", "vitals"]

MAX_LIMIT = 50
MAX_QUERY = 100


@dataclass(frozen=True)
class FormularyEntry:
    """A formulary drug as the prescription check reads it (doses in ``dose_unit``; None: no range)."""

    coding: Coding
    rxnorm: Coding | None
    classes: tuple[str, ...]
    synonyms: tuple[str, ...]
    forms: tuple[str, ...]
    strengths: tuple[str, ...]
    routes: tuple[str, ...]
    dose_unit: str
    dose_min: float | None
    dose_max: float | None
    max_daily: float | None
    frequency: str

    @property
    def name(self) -> str:
        return self.coding.display

    def in_class(self, drug_class: str) -> bool:
        """Is this drug in `drug_class` ("penicillins"), compared folded."""
        wanted = norm.fold(drug_class).strip()
        return any(norm.fold(c) == wanted for c in self.classes)


@dataclass(frozen=True)
class VitalSign:
    """A vital sign's LOINC coding, UCUM unit and plausible range (outside it: a typing error)."""

    coding: Coding
    key: str
    unit: str | None
    unit_label: str | None
    low: float | None
    high: float | None
    decimals: int | None
    components: tuple[str, ...]

    def plausible(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


def _spec(system: str) -> CodeSetSpec:
    spec = sources.BY_SYSTEM.get(system) or CODE_SETS.get(system)
    if spec is None:
        raise Invalid(errors={"system": "That is not a code set the portal knows."})
    return spec


# --- search ----------------------------------------------------------------------------------------

def search(session: Session, actor: Actor | None, *, system: str, text: str, limit: int = 20) -> list[Coding]:
    """Codes of `system` (a FHIR system URI, or a set key such as "icd10cm") matching what was
    typed, best first, at most `limit` (≤ 50). Not audited (no PHI); refusals are."""
    access.require(session, actor, Action.CODES_SEARCH)
    spec = _spec(system)
    if not isinstance(text, str) or len(text) > MAX_QUERY:
        raise Invalid(errors={"text": f"Type at most {MAX_QUERY} characters."})
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise Invalid(errors={"limit": "The number of results must be a whole number."})
    limit = max(1, min(limit, MAX_LIMIT))
    return [Coding(spec.system, code, display) for code, display in _ranked(session, spec.key, text, limit)]


def _ranked(session: Session, key: str, query: str, limit: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    code = norm.looks_like_code(query)
    if code:
        found = _code_matches(session, key, code, limit)
    words = norm.words(query)
    if words and len(found) < limit:
        seen = {c for c, _ in found}
        found += [m for m in _word_matches(session, key, words, limit + len(found)) if m[0] not in seen]
    return found[:limit]


def _code_matches(session: Session, key: str, code: str, limit: int) -> list[tuple[str, str]]:
    """Codes starting with `code` (a code key), the exact one first: a b-tree range on (set, code key)."""
    c = CodeConcept.__table__.c
    low, high = norm.prefix_bounds(code)
    where = [c.code_set == key, c.active.is_(True), c.code_key >= low]
    if high is not None:
        where.append(c.code_key < high)
    stmt = (select(c.code, c.display).where(*where)
            .order_by(case((c.code_key == code, 0), else_=1), c.tier, c.rank).limit(limit))
    return [(row[0], row[1]) for row in session.connection().execute(stmt)]


#: Word matches are ranked among at most this many candidates with the lowest static rank (all the
#: preferred tier and more): a one-letter query over 98,000 codes costs the same as a rare word.
CANDIDATES = 2000


def _word_matches(session: Session, key: str, words: Sequence[str], limit: int) -> list[tuple[str, str]]:
    """Concepts with a word starting with each of `words`. Each word is a b-tree range on the word
    index, read from the index alone (rank is in its key). With several words, the rarest one (counted
    up to CANDIDATES) finds the candidates and the others are word-start LIKEs on their normalized text;
    when every word is common, the ranges are intersected. Only the lowest CANDIDATES ranks are then
    ordered by tier, names beginning with the first word, then rank."""
    concept, token = CodeConcept.__table__, CodeToken.__table__
    c, t = concept.c, token.c
    conn = session.connection()

    def ranks(word: str) -> Any:
        low, high = norm.prefix_bounds(word)
        where = [t.code_set == key, t.token >= low] + ([t.token < high] if high is not None else [])
        return select(t.rank).where(*where)

    starts = case((c.search_text.like(f" {words[0]}%"), 0), else_=1)
    order = (c.tier, starts, c.rank)
    if len(words) > 1:
        counted = {w: conn.execute(select(func.count()).select_from(ranks(w).limit(CANDIDATES).subquery())).scalar_one()
                   for w in words}
        rarest = min(words, key=lambda w: counted[w])
        if counted[rarest] < CANDIDATES:
            others = [c.search_text.like(f"% {w}%") for w in words if w != rarest]
            stmt = (select(c.code, c.display).where(c.code_set == key, c.rank.in_(ranks(rarest)), *others)
                    .order_by(*order).limit(limit))
            return [(row[0], row[1]) for row in conn.execute(stmt)]
    matched = (intersect(*[ranks(w) for w in words]) if len(words) > 1 else ranks(words[0]).distinct()).subquery()
    candidates = select(matched.c.rank).order_by(matched.c.rank).limit(CANDIDATES).subquery()
    stmt = (select(c.code, c.display).where(c.code_set == key, c.rank.in_(select(candidates.c.rank)))
            .order_by(*order).limit(limit))
    return [(row[0], row[1]) for row in conn.execute(stmt)]


# --- lookups ---------------------------------------------------------------------------------------

_CONCEPT: list[Any] = []


def _concept_statement() -> Any:
    """``_concept``'s statement, built once with bound parameters and run on the Core connection
    (the prescription check looks its drug up on every click: building an ORM select of the whole
    row each time cost more CPU than the round trip)."""
    if not _CONCEPT:
        c = CodeConcept.__table__.c
        code = bindparam("code")
        _CONCEPT.append(select(c.system, c.code, c.display, c.extra)
                        .where(c.code_set == bindparam("code_set"), (c.code == code) | (c.code_key == bindparam("code_key")))
                        .order_by(case((c.code == code, 0), else_=1)).limit(1))
    return _CONCEPT[0]


def _concept(session: Session, key: str, code: str) -> Any:
    """The concept's system, code, display and extra (a row), or None."""
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        return None
    code = code.strip()
    return session.connection().execute(_concept_statement(),
                                        {"code_set": key, "code": code, "code_key": norm.code_key(code)}).first()


def get(session: Session, system: str, code: str) -> Coding | None:
    """The concept `code` of `system` with its display ("E11.9", also "e119"), or None when the set
    has no such code. A code a newer release retired is still found (it stays, inactive)."""
    spec = _spec(system)
    row = _concept(session, spec.key, code)
    return Coding(spec.system, row.code, row.display) if row is not None else None


def formulary_entry(session: Session, code: str) -> FormularyEntry | None:
    """The formulary drug `code` ("amoxicillin") with its classes, forms, strengths and dose range."""
    row = _concept(session, sources.FORMULARY_SET.key, code)
    return _entry(row) if row is not None else None


def _entry(row: Any) -> FormularyEntry:
    x: dict[str, Any] = row.extra or {}
    return FormularyEntry(
        coding=Coding(row.system, row.code, row.display),
        rxnorm=Coding(RXNORM, x["rxnorm"], row.display) if x.get("rxnorm") else None,
        classes=tuple(x.get("classes") or ()), synonyms=tuple(x.get("synonyms") or ()),
        forms=tuple(x.get("forms") or ()), strengths=tuple(x.get("strengths") or ()),
        routes=tuple(x.get("routes") or ()), dose_unit=x.get("dose_unit") or "",
        dose_min=x.get("dose_min"), dose_max=x.get("dose_max"), max_daily=x.get("max_daily"),
        frequency=x.get("frequency") or "")


def drug_classes(session: Session) -> list[str]:
    """Every drug class the formulary names, sorted (what an allergy to a class can be recorded as)."""
    rows = session.scalars(select(CodeConcept.extra).where(CodeConcept.code_set == sources.FORMULARY_SET.key,
                                                        CodeConcept.active.is_(True))).all()
    return sorted({c for extra in rows for c in (extra or {}).get("classes", [])}, key=str.lower)


def vital(session: Session, loinc: str) -> VitalSign | None:
    """The vital sign with LOINC code `loinc` ("8480-6"), its unit and plausible range, or None."""
    row = _concept(session, sources.LOINC_SET.key, loinc)
    return _vital(row) if row is not None else None


@dataclass(frozen=True)
class LabTest:
    """A laboratory test's LOINC coding, usual unit and usual adult reference range (a default the
    result form offers; the lab's own range on a result always wins)."""

    coding: Coding
    unit: str | None
    low: float | None
    high: float | None
    range_text: str | None


def lab_test(session: Session, loinc: str) -> LabTest | None:
    """The laboratory test with LOINC code `loinc` ("4548-4") from the lab set, or None."""
    row = _concept(session, sources.LOINC_LAB_SET.key, loinc)
    if row is None:
        return None
    x: dict[str, Any] = row.extra or {}
    return LabTest(coding=Coding(row.system, row.code, row.display), unit=x.get("unit"), low=x.get("low"),
                   high=x.get("high"), range_text=x.get("range_text"))


def vitals(session: Session) -> list[VitalSign]:
    """Every vital sign the portal records, in the order of the shipped table."""
    rows = session.scalars(select(CodeConcept).where(CodeConcept.code_set == sources.LOINC_SET.key,
                                                  CodeConcept.active.is_(True)).order_by(CodeConcept.rank)).all()
    return [_vital(row) for row in rows]


def _vital(row: Any) -> VitalSign:
    x: dict[str, Any] = row.extra or {}
    return VitalSign(coding=Coding(row.system, row.code, row.display), key=x.get("key") or "",
                     unit=x.get("unit"), unit_label=x.get("unit_label"), low=x.get("low"), high=x.get("high"),
                     decimals=x.get("decimals"), components=tuple(x.get("components") or ()))


# --- loading ---------------------------------------------------------------------------------------

def loaded(session: Session) -> dict[str, CodeSet]:
    """What is loaded, by set key."""
    return {row.key: row for row in session.scalars(select(CodeSet)).all()}


def load(*, sets: Iterable[str] | None = None, icd10_prefixes: Sequence[str] | None = None,
         cvx_file: Path | None = None, force: bool = False,
         on_loaded: Callable[[LoadReport], None] | None = None) -> list[LoadReport]:
    """Load or update code sets (all by default), each in its own transaction; a set already loaded
    from the same source is skipped at the cost of one lookup (the ICD-10-CM package is not even
    imported). `icd10_prefixes` loads only the ICD-10-CM codes starting with them (tests, small
    demos). An operator's command (`portal codes load`): no actor; a change is audited as
    ``codes.load``."""
    from patient_portal.core import audit

    wanted = list(sets) if sets is not None else list(CODE_SETS)
    unknown = [key for key in wanted if key not in CODE_SETS]
    if unknown:
        raise Invalid(errors={"sets": f"Unknown code sets: {', '.join(unknown)} (known: {', '.join(CODE_SETS)})."})
    reports = []
    for key in wanted:
        started = time.perf_counter()
        with unit_of_work() as session:
            if key == "icd10cm" and not force:
                stored = loader.is_current(session, key, sources.icd10cm_fingerprint(icd10_prefixes))
                if stored is not None:
                    report = LoadReport(key, stored.concepts, 0, 0, True, time.perf_counter() - started, stored.source)
                    reports.append(report)
                    if on_loaded:
                        on_loaded(report)
                    continue
            source = _source(key, icd10_prefixes, cvx_file)
            report = loader.load(session, source, force=force)
            if not report.skipped:
                report = LoadReport(report.key, report.concepts, report.tokens, report.retired, False,
                                    time.perf_counter() - started, report.source)
                audit.record(session, None, "codes.load", object_type="code_set", object_id=key,
                             detail={"source": report.source, "concepts": report.concepts,
                                     "retired": report.retired})
        reports.append(report)
        if on_loaded:
            on_loaded(report)
    return reports


def load_small() -> list[LoadReport]:
    """The small sets (CVX, LOINC vital signs, formulary): milliseconds; the demo seed and tests."""
    return load(sets=SMALL_SETS)


def _source(key: str, icd10_prefixes: Sequence[str] | None, cvx_file: Path | None) -> sources.Source:
    if key == "icd10cm":
        return sources.icd10cm(icd10_prefixes)
    if key == "cvx":
        return sources.cvx(cvx_file)
    if key == "loinc":
        return sources.loinc_vitals()
    if key == "loinc_lab":
        return sources.loinc_labs()
    return sources.formulary()
