"""The vital signs this area records, in ONE place: which LOINC codes, under which form key, which of
them a patient may report from home, and which is computed (BMI).

Units, plausible ranges, decimals and LOINC names are NOT kept here: they are data in the code tables
(``domain/codes``, loaded from ``codes/data/vitals.csv`` by ``portal codes load`` and the demo seed),
read through ``codes.vital(session, loinc)``. This module only says which of those vitals the area
takes and how the form and the charts name them, so a new vital is one line here plus its row there.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlmodel import Session

from patient_portal.core.errors import Conflict
from patient_portal.domain.codes import service as codes
from patient_portal.domain.codes.service import VitalSign


@dataclass(frozen=True)
class Vital:
    """One vital sign the area records: `key` names its form field and series; `label` is what a
    field error calls it ("Systolic must be between …")."""

    key: str
    loinc: str
    label: str
    home: bool = False  # a patient may report it from home (a home reading)
    computed: bool = False  # never typed: the service computes it (BMI)


VITALS: tuple[Vital, ...] = (
    Vital("systolic", "8480-6", "Systolic", home=True),
    Vital("diastolic", "8462-4", "Diastolic", home=True),
    Vital("heart_rate", "8867-4", "Heart rate"),
    Vital("temperature", "8310-5", "Temperature"),
    Vital("respiratory_rate", "9279-1", "Respiratory rate"),
    Vital("spo2", "59408-5", "SpO2"),
    Vital("weight", "29463-7", "Weight", home=True),
    Vital("height", "8302-2", "Height"),
    Vital("bmi", "39156-5", "BMI", computed=True),
    Vital("glucose", "2339-0", "Glucose", home=True),
)
BY_KEY = {v.key: v for v in VITALS}
BY_LOINC = {v.loinc: v for v in VITALS}
#: Other LOINC codes read as one of ours (an arterial SpO2 imported later reads in the SpO2 series).
ALSO_READ = {"2708-6": "spo2"}
#: The blood pressure panel the two components belong to (FHIR's vital-signs BP profile).
BP_PANEL = "85354-9"
BP = ("systolic", "diastolic")
#: What a clinician types (everything but what is computed) and what a patient may report.
RECORDED = tuple(v.key for v in VITALS if not v.computed)
REPORTABLE = tuple(v.key for v in VITALS if v.home)
#: The series a chart draws: blood pressure is one chart with two lines.
TRENDS: tuple[str, ...] = ("blood_pressure", "heart_rate", "temperature", "respiratory_rate", "spo2", "weight",
                           "height", "bmi", "glucose")
TREND_KEYS = {"blood_pressure": BP, **{k: (k,) for k in TRENDS if k != "blood_pressure"}}


def key_of(loinc: str) -> str | None:
    """Our key for a stored LOINC code (None: not one this area reads)."""
    vital = BY_LOINC.get(loinc)
    return vital.key if vital else ALSO_READ.get(loinc)


def loincs_of(key: str) -> tuple[str, ...]:
    """Every stored LOINC code read as the series `key`."""
    return (BY_KEY[key].loinc, *(code for code, k in ALSO_READ.items() if k == key))


def spec(session: Session, key: str) -> VitalSign:
    """The code table's row for `key`: LOINC name, UCUM unit, plausible range, decimals. A portal
    whose code tables were never loaded cannot check a value, so it refuses to record one."""
    found = codes.vital(session, BY_KEY[key].loinc)
    if found is None:
        raise Conflict("Vital signs cannot be recorded yet: the code tables are not loaded. Ask the "
                       "administrator to run 'portal codes load'.")
    return found


def specs(session: Session) -> dict[str, VitalSign]:
    """Every vital of VITALS that the code tables hold, by key (one statement)."""
    by_code = {v.coding.code: v for v in codes.vitals(session)}
    return {v.key: by_code[v.loinc] for v in VITALS if v.loinc in by_code}


#: How long ``shown_specs`` keeps the vitals' names and units (code-table rows, no patient data).
SHOWN_SPECS_SECONDS = 30.0
_shown: dict[str, tuple[float, dict[str, VitalSign]]] = {}
_shown_lock = threading.Lock()


def shown_specs(session: Session) -> dict[str, VitalSign]:
    """``specs`` for showing readings (their LOINC names and unit labels), kept per database for
    ``SHOWN_SPECS_SECONDS``: every FHIR Observation search needs them and they change only when an
    administrator reloads the code tables. Never used to check a value (``spec`` reads the table),
    and an empty answer (tables not loaded yet) is not kept."""
    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    with _shown_lock:
        found = _shown.get(key)
    if found is not None and now - found[0] < SHOWN_SPECS_SECONDS:
        return found[1]
    fresh = specs(session)
    if fresh:
        with _shown_lock:
            _shown[key] = (now, fresh)
    return fresh
