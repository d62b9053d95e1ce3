"""One error family for every area: each area's errors are Invalid, NotFound, Conflict or
AccessDenied, and the API answers each the same way."""

from __future__ import annotations

import json

import pytest

from patient_portal.api.responses import service_error
from patient_portal.core.access import AccessDenied
from patient_portal.core.errors import Conflict, Invalid, NotFound, ServiceError


def _area_errors():
    from patient_portal.domain.audit_log.dto import FilterInvalid
    from patient_portal.domain.identity import (
        care_team,
        email_links,
        enrolment,
        password_change,
        passwords,
        reset,
        service,
        sessions,
    )
    from patient_portal.domain.patients import common, registration, validation

    return [validation.ValidationFailed({"given_name": "This is required."}), common.PatientNotFound(),
            common.Conflict(["phone"], {}, 2), service.UserInputError("email", "Enter an email."),
            care_team.CareTeamError("Choose an active doctor."), enrolment.EnrolmentError("That code is not right."),
            passwords.PasswordRejected("Too short."), password_change.WrongCurrentPassword(False),
            reset.ResetLinkInvalid(), email_links.LinkInvalid(), sessions.AmbiguousCookies("portal_session"),
            registration.TooManySignUps(), FilterInvalid("Enter the from date as YYYY-MM-DD.", "date_from")]


#: Exceptions of domain/ that are deliberately not failures of the family, and why. Keep it short.
NOT_FAILURES = {
    "patient_portal.domain.patients.registration.PossibleDuplicates":
        "the wizard's question, not a refusal: it carries the matching records to choose from",
    "patient_portal.domain.documents.blobs.StorageUnavailable":
        "an outage of the document store (503), not the person's doing; a ServiceError, so attempt() says it",
    "patient_portal.domain.documents.blobs.DocumentDamaged":
        "a stored file failed its integrity check (500; a download is aborted part-way); a ServiceError",
}
#: Areas whose errors their owner is still bringing into the family (a later change drops the entry).
NOT_YET: tuple[str, ...] = ()


def _domain_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined in a module under patient_portal.domain, by qualified name."""
    import importlib
    import inspect
    import pkgutil

    import patient_portal.domain as domain

    found = {}
    for info in pkgutil.walk_packages(domain.__path__, "patient_portal.domain."):
        if info.name.startswith(NOT_YET):
            continue
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == info.name:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_every_domain_error_class_joins_the_family():
    """A new area's error that is a plain Exception/ValueError fails here with its name: attempt()
    and the API would not answer it (the person would see "Something went wrong")."""
    outside = sorted(name for name, cls in _domain_exceptions().items()
                     if not issubclass(cls, Invalid | NotFound | Conflict | AccessDenied) and name not in NOT_FAILURES)
    assert not outside, f"not in the error family (Invalid, NotFound, Conflict, AccessDenied): {outside}"


def test_the_exceptions_to_the_family_are_real_classes():
    assert set(NOT_FAILURES) <= set(_domain_exceptions())


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
