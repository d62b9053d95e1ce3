"""One error family for every area: each area's errors are Invalid, NotFound, Conflict or
AccessDenied, and the API answers each the same way."""

from __future__ import annotations

import json

import pytest

from patient_portal.api.responses import service_error
from patient_portal.core.access import AccessDenied
from patient_portal.core.errors import Conflict, Invalid, NotFound, ServiceError


def _area_errors():
    from patient_portal.domain.identity import (
        care_team,
        enrolment,
        password_change,
        passwords,
        reset,
        service,
    )
    from patient_portal.domain.patients import common, validation

    return [validation.ValidationFailed({"given_name": "This is required."}), common.PatientNotFound(),
            common.Conflict(["phone"], {}, 2), service.UserInputError("email", "Enter an email."),
            care_team.CareTeamError("Choose an active doctor."), enrolment.EnrolmentError("That code is not right."),
            passwords.PasswordRejected("Too short."), password_change.WrongCurrentPassword(False),
            reset.ResetLinkInvalid()]


@pytest.mark.parametrize("exc", _area_errors(), ids=lambda e: type(e).__name__)
def test_every_area_error_is_one_of_the_family(exc):
    assert isinstance(exc, Invalid | NotFound | Conflict | AccessDenied)


@pytest.mark.parametrize(("exc", "status"), [
    (Invalid("Fix these.", {"dob": "Enter a date."}), 422), (NotFound(), 404), (Conflict(), 409),
    (AccessDenied(), 403), (AccessDenied("Please sign in."), 401),
])
def test_the_api_answers_the_family_alike(exc: ServiceError, status: int):
    response = service_error(exc)
    body = json.loads(response.body)
    assert response.status_code == status and body["detail"] == str(exc)
    assert response.headers["cache-control"] == "no-store"
    if isinstance(exc, Invalid):
        assert body["errors"] == {"dob": "Enter a date."}


def test_codes_carry_their_system():
    from patient_portal.core.coding import ICD10_CM, Coding

    assert Coding.of("ICD-10", "J45", "Asthma") == Coding(ICD10_CM, "J45", "Asthma")
    assert Coding.of("ICD-10", "", "Asthma") is None
