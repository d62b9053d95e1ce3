"""The patients area's front door: every patient use case the UI, the API, the CLI and the seed
call, so callers write ``from patient_portal.domain.patients import service as patients`` and never
depend on how the area splits its modules (registration, search, profile, header, review, drafts,
merge).

Insurance, emergency contacts and history have their own services (``domain/<area>/service.py``);
the chart composes them in ``profile.get_chart``.
"""

from __future__ import annotations

from patient_portal.domain.patients.common import Conflict, PatientNotFound
from patient_portal.domain.patients.drafts import discard_draft, load_draft, save_draft
from patient_portal.domain.patients.header import ChartHeader, chart_header, open_chart, with_header
from patient_portal.domain.patients.merge import (
    list_merges,
    merge_patients,
    merged_into,
    preview_merge,
    unmerge,
)
from patient_portal.domain.patients.profile import (
    get_chart,
    update_contact,
    update_demographics,
    update_section,
)
from patient_portal.domain.patients.registration import (
    PossibleDuplicates,
    Registered,
    RegistrationDraft,
    TooManySignUps,
    find_possible_duplicates,
    record_duplicate_decision,
    register_patient,
    self_register_patient,
    sign_up_patient,
)
from patient_portal.domain.patients.review import (
    ReviewPage,
    confirm_link,
    decide_change_request,
    decline_link,
    link_identity,
    list_change_requests,
    list_identity_checks,
    request_legal_change,
    verify_identity,
)
from patient_portal.domain.patients.search import search_patients
from patient_portal.domain.patients.validation import ValidationFailed

__all__ = [
    # errors
    "Conflict", "PatientNotFound", "PossibleDuplicates", "TooManySignUps", "ValidationFailed",
    # registration and sign-up
    "RegistrationDraft", "Registered", "find_possible_duplicates", "record_duplicate_decision",
    "register_patient", "self_register_patient", "sign_up_patient",
    # the registration wizard's draft
    "discard_draft", "load_draft", "save_draft",
    # finding and reading a record
    "search_patients", "get_chart", "ChartHeader", "chart_header", "open_chart", "with_header",
    # editing the profile
    "update_section", "update_demographics", "update_contact",
    # review: legal changes and identity checks
    "ReviewPage", "request_legal_change", "list_change_requests", "decide_change_request",
    "list_identity_checks", "link_identity", "confirm_link", "decline_link", "verify_identity",
    # merging duplicate records (admins) and undoing it
    "preview_merge", "merge_patients", "unmerge", "list_merges", "merged_into",
]
