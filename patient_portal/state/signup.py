"""State of public self-registration (/register): an account (usable once its email address is
confirmed by link) and the basics of a patient record, "pending identity check" until staff verify it
at the desk. Every accepted form ends on "check your email", whether or not the address had an account."""

from __future__ import annotations

import reflex as rx

from patient_portal.domain.patients import service as patients
from patient_portal.domain.patients import validation as rules
from patient_portal.state.calls import attempt, first_error_message

FIELDS = ("given_name", "family_name", "date_of_birth", "sex", "phone_mobile")


class SignupState(rx.State):
    """The password is read from the submitted form only; it is never kept in a var."""

    errors: dict[str, str] = {}
    error: str = ""
    done: bool = False
    saving: bool = False
    sent_to: str = ""

    @rx.event
    def reset_form(self):
        self.errors, self.error, self.done, self.saving, self.sent_to = {}, "", False, False, ""

    @rx.event
    def blur_field(self, field: str, value: str):
        """Check one field as the user leaves it (the account email included)."""
        if field not in (*FIELDS, "email"):
            return
        found = rules.validate_basic({field: str(value)[:320], "email": "x@example.com"}) if field != "email" \
            else {"email": rules.check_email(value) or ""}
        errors = dict(self.errors)
        errors.pop(field, None)
        if found.get(field):
            errors[field] = found[field]
        self.errors = errors

    @rx.event
    async def submit(self, form: dict):
        self.saving, self.error = True, ""
        yield
        email = str(form.get("email", ""))[:320]
        basic = {k: str(form.get(k, ""))[:200] for k in FIELDS}
        basic.update(email=email, preferred_contact_method="email")
        answer = await attempt(self, patients.sign_up_patient, email=email,
                               password=str(form.get("password", ""))[:128], basic=basic,
                               ip=self.router.session.client_ip or None, anonymous=True)
        if answer.ok:
            self.errors, self.done, self.sent_to = {}, True, email.strip()
        elif answer.errors:  # beside the fields
            self.errors = {k.removeprefix("account."): v for k, v in answer.errors.items()}
            self.error = first_error_message(self.errors)
        else:  # not one field's fault (a busy network): beside the button
            self.error = answer.message
        self.saving = False
