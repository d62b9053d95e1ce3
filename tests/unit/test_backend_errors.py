"""An unexpected failure in an event handler: the person gets plain words and a reference; the log
gets the same reference and the stack, but not the exception's message (it may quote patient data)."""

from __future__ import annotations

import logging

from patient_portal.state.errors import on_backend_error

PATIENT = {"name": "Maria Garcia", "dob": "1984-03-12", "allergy": "Peanuts"}


def _fail() -> None:
    try:
        int(PATIENT["name"] + PATIENT["dob"])  # the ValueError quotes the value
    except ValueError as exc:
        raise RuntimeError(f"could not save allergy {PATIENT['allergy']!r} for {PATIENT['name']}") from exc


def test_the_person_sees_a_reference_and_the_log_keeps_it_without_patient_data(caplog):
    try:
        _fail()
    except RuntimeError as exc:
        with caplog.at_level(logging.ERROR, logger="patient_portal.errors"):
            spec = on_backend_error(exc)
    shown = str(spec)
    logged = caplog.text
    assert "Something went wrong on our side" in shown
    reference = logged.split("unexpected error ", 1)[1].split()[0]
    assert len(reference) == 6 and reference in shown
    assert "Maria" not in shown and "Peanuts" not in shown
    assert "Maria" not in logged and "Peanuts" not in logged
    # the stack still says where it happened, the cause included
    assert "_fail" in logged and "RuntimeError" in logged and "ValueError" in logged
