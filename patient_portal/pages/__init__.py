"""Page modules; importing this package registers every page with the app."""

from patient_portal.pages.public import landing  # noqa: F401
