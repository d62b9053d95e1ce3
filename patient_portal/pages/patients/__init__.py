"""Patient pages: registration wizard, search, chart, the patient's own record, review queue, sign-up."""

from patient_portal.pages.patients import chart, record, register, review, search, signup  # noqa: F401
