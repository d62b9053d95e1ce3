"""What the code tables are loaded from: the ICD-10-CM package and the data files shipped here.

Each reader returns a ``Source``: the rows, where they came from and a fingerprint that changes when
they do, so loading the same source twice is a no-op. Pure reading, no database.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from patient_portal.core.coding import CVX, FORMULARY, ICD10_CM, LOINC

#: Bump when the way rows are built changes, so every set loads again once.
LOADER_VERSION = "1"
DATA = resources.files("patient_portal.domain.codes") / "data"


@dataclass(frozen=True)
class CodeSetSpec:
    key: str  # the short key the tables use
    system: str  # the FHIR system URI
    label: str  # what people call it


ICD10CM_SET = CodeSetSpec("icd10cm", ICD10_CM, "ICD-10-CM")
CVX_SET = CodeSetSpec("cvx", CVX, "CVX")
LOINC_SET = CodeSetSpec("loinc", LOINC, "LOINC vital signs")
#: Laboratory tests (lab results): LOINC too, a set of its own so the vitals stay the vitals; search
#: it by its key ("loinc_lab"): the LOINC system URI names the vital-signs set.
LOINC_LAB_SET = CodeSetSpec("loinc_lab", LOINC, "LOINC laboratory tests")
FORMULARY_SET = CodeSetSpec("formulary", FORMULARY, "Formulary")
CODE_SETS: dict[str, CodeSetSpec] = {s.key: s for s in (ICD10CM_SET, CVX_SET, LOINC_SET, LOINC_LAB_SET,
                                                         FORMULARY_SET)}
BY_SYSTEM: dict[str, CodeSetSpec] = {s.system: s for s in CODE_SETS.values() if s is not LOINC_LAB_SET}
#: The sets small enough to load anywhere in milliseconds (seed, test fixtures).
SMALL_SETS = ("cvx", "loinc", "loinc_lab", "formulary")


@dataclass(frozen=True)
class ConceptRow:
    """One concept as read from its source. ``tier`` (0 preferred, 1 other, 2 header) then ``order``
    sort a set into its static search rank; ``terms`` are more words it is found by (synonyms, brand
    names, a vaccine's full name)."""

    code: str
    display: str
    order: tuple
    tier: int = 1
    selectable: bool = True
    terms: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    spec: CodeSetSpec
    rows: list[ConceptRow]
    source: str
    fingerprint: str


def _fingerprint(*parts: str | bytes) -> str:
    digest = hashlib.sha256(LOADER_VERSION.encode())
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _csv_rows(text: str) -> list[dict[str, str]]:
    """A data file's rows: '#' lines are its header comment."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def _listed(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _number(value: str) -> float | int | None:
    value = (value or "").strip()
    if not value:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


# --- ICD-10-CM -------------------------------------------------------------------------------------

def icd10cm_release() -> str:
    """The package version and the CMS release it carries, e.g. 'simple-icd-10-cm 1.5.0 (April 2026)'."""
    version = metadata.version("simple-icd-10-cm")
    data = resources.files("simple_icd_10_cm") / "data"
    names = [p.name for p in data.iterdir() if p.name.startswith("icd10c-tabular-")]
    release = names[0].removeprefix("icd10c-tabular-").removesuffix(".xml").replace("-1-", " ") if names else "?"
    return f"simple-icd-10-cm {version} (CMS ICD-10-CM, {release} release)"


def _common_icd10() -> set[str]:
    """The codes listed first in searches (data/icd10cm_common.txt)."""
    lines = (DATA / "icd10cm_common.txt").read_text().splitlines()
    return {code for line in lines if not line.startswith("#") for code in line.split()}


def _icd10_terms() -> list[tuple[str, str]]:
    """(phrase of CMS names, the words clinicians type for it) from data/icd10cm_terms.txt."""
    out = []
    for line in (DATA / "icd10cm_terms.txt").read_text().splitlines():
        words, _, phrase = line.partition(":")
        if line.startswith("#") or not phrase.strip():
            continue
        out.append((phrase.strip().lower(), words.strip()))
    return out


def icd10cm_fingerprint(prefixes: Sequence[str] | None = None) -> str:
    """Known without reading the codes (importing the package parses 10 MB of XML, ~2 s)."""
    return _fingerprint("icd10cm", icd10cm_release(), (DATA / "icd10cm_common.txt").read_bytes(),
                        (DATA / "icd10cm_terms.txt").read_bytes(), ",".join(sorted(prefixes)) if prefixes else "all")


def icd10cm(prefixes: Sequence[str] | None = None) -> Source:
    """Every ICD-10-CM category, subcategory and code (chapters and blocks left out: nobody records
    them), or those whose code starts with one of `prefixes` ("E11", "I1"). A code with subcodes is
    a header (not billable, ``selectable`` False). A code is also found by the words clinicians type
    for its condition (data/icd10cm_terms.txt: "copd", "gerd", "afib")."""
    import simple_icd_10_cm as cm  # imported here: ~2 s of XML parsing

    wanted = tuple(p.upper() for p in prefixes) if prefixes else None
    common = _common_icd10()
    terms = _icd10_terms()
    rows = []
    for code in cm.get_all_codes(True):
        if wanted is not None and not code.startswith(wanted):
            continue
        if cm.is_chapter_or_block(code):
            continue
        leaf = cm.is_leaf(code)
        display = cm.get_description(code)
        tier = 2 if not leaf else 0 if code in common else 1
        named = display.lower()
        said = " ".join(words for phrase, words in terms if phrase in named)
        rows.append(ConceptRow(code, display, (len(code), len(display), code), tier=tier, selectable=leaf,
                               terms=said))
    return Source(ICD10CM_SET, rows, icd10cm_release(), icd10cm_fingerprint(prefixes))


# --- CVX -------------------------------------------------------------------------------------------

_CVX_SELECTABLE = {"active", "inactive", "non-us"}
#: Words people use for a vaccine that its CDC names do not contain ("flu shot", "shingles").
_CVX_KEYWORDS = {"influenza": "flu", "zoster": "shingles", "varicella": "chickenpox", "papilloma": "hpv",
                 "pneumococcal": "pneumonia", "pertussis": "whooping cough", "sars-cov-2": "covid coronavirus",
                 "hepatitis": "hep", "poliovirus": "polio", "haemophilus": "hib", "measles": "mmr",
                 "tetanus": "lockjaw", "calmette-guerin": "tuberculosis tb", "monkeypox": "mpox"}


def cvx(path: Path | None = None) -> Source:
    """The shipped CVX table, or the CDC's own download (`path`: its pipe-delimited text, columns code |
    short description | full name | note | status | …), which replaces it."""
    if path is None:
        raw = (DATA / "cvx.csv").read_bytes()
        table = [(r["code"], r["short_name"], r["full_name"], r["status"]) for r in _csv_rows(raw.decode())]
        source = "CDC CVX (common vaccines, shipped with the portal)"
    else:
        raw = Path(path).read_bytes()
        table = []
        for line in raw.decode("utf-8-sig", errors="replace").splitlines():
            cells = [c.strip() for c in line.split("|")]
            if len(cells) >= 5 and cells[0] and cells[0][0].isdigit():
                table.append((cells[0], cells[1], cells[2], cells[4]))
        source = f"CDC CVX table ({Path(path).name})"
    rows = []
    for code, short, full, status in table:
        state = status.strip().lower()
        selectable = state in _CVX_SELECTABLE
        tier = 0 if state == "active" else 1 if selectable else 2
        names = set(re.findall(r"[a-z0-9-]+", f"{short} {full}".lower()))
        keywords = "" if "globulin" in names else " ".join(  # VZIG is not a shingles vaccine
            word for name, word in _CVX_KEYWORDS.items() if name in names)
        rows.append(ConceptRow(code, short, (len(short), int(code) if code.isdigit() else 0), tier=tier,
                               selectable=selectable, terms=f"{full} {keywords}",
                               extra={"full_name": full, "status": status}))
    return Source(CVX_SET, rows, source, _fingerprint("cvx", raw))


# --- LOINC vital signs -----------------------------------------------------------------------------

def loinc_vitals() -> Source:
    """The vital signs and home readings: LOINC code, UCUM unit and plausible range."""
    raw = (DATA / "vitals.csv").read_bytes()
    rows = []
    for position, r in enumerate(_csv_rows(raw.decode())):
        extra = {"key": r["key"], "unit": r["unit"] or None, "unit_label": r["unit_label"] or None,
                 "low": _number(r["low"]), "high": _number(r["high"]),
                 "decimals": int(r["decimals"]) if r["decimals"] else None,
                 "components": _listed(r["components"])}
        rows.append(ConceptRow(r["code"], r["display"], (position,), terms=r["keywords"], extra=extra))
    return Source(LOINC_SET, rows, "LOINC (vital signs subset shipped with the portal)", _fingerprint("loinc", raw))


# --- LOINC laboratory tests ------------------------------------------------------------------------

def loinc_labs() -> Source:
    """Common laboratory tests: LOINC code, usual UCUM unit and a usual adult reference range."""
    raw = (DATA / "labs.csv").read_bytes()
    rows = []
    for position, r in enumerate(_csv_rows(raw.decode())):
        extra = {"unit": r["unit"] or None, "low": _number(r["low"]), "high": _number(r["high"]),
                 "range_text": r["range_text"] or None}
        rows.append(ConceptRow(r["code"], r["display"], (position,), terms=r["keywords"], extra=extra))
    return Source(LOINC_LAB_SET, rows, "LOINC (laboratory subset shipped with the portal)",
                  _fingerprint("loinc_lab", raw))


# --- Formulary -------------------------------------------------------------------------------------

def formulary() -> Source:
    """The formulary of common drugs (ingredient, classes, forms, strengths, usual adult doses)."""
    raw = (DATA / "formulary.csv").read_bytes()
    rows = []
    for r in _csv_rows(raw.decode()):
        extra = {"rxnorm": r["rxnorm"] or None, "synonyms": _listed(r["synonyms"]),
                 "classes": _listed(r["classes"]), "forms": _listed(r["forms"]),
                 "strengths": _listed(r["strengths"]), "routes": _listed(r["routes"]),
                 "dose_unit": r["dose_unit"], "dose_min": _number(r["dose_min"]),
                 "dose_max": _number(r["dose_max"]), "max_daily": _number(r["max_daily"]),
                 "frequency": r["frequency"]}
        terms = " ".join([*extra["synonyms"], *extra["classes"]])
        rows.append(ConceptRow(r["code"], r["name"], (len(r["name"]), r["name"]), terms=terms, extra=extra))
    return Source(FORMULARY_SET, rows, "Patient Portal formulary (shipped with the portal)",
                  _fingerprint("formulary", raw))


def small_sources() -> Iterable[Source]:
    yield cvx()
    yield loinc_vitals()
    yield loinc_labs()
    yield formulary()


def dumps(extra: dict[str, Any]) -> str:
    return json.dumps(extra, separators=(",", ":"), sort_keys=True)
