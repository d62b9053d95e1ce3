"""Every notification email an admin may reword (core.mail_wording), by key, in the order the
wording page lists them. Each area declares its templates beside the code that sends them; this is
the one list of them, as domain/reports lists the reports."""

from __future__ import annotations

from patient_portal.core.mail_wording import Template
from patient_portal.domain.appointments.notify import EMAILS as APPOINTMENT_EMAILS
from patient_portal.domain.breakglass.notify import EMAIL as EMERGENCY_ACCESS_EMAIL
from patient_portal.domain.identity.account_mail import TEMPLATES as ACCOUNT_EMAILS
from patient_portal.domain.messages.notify import NEW_MESSAGE
from patient_portal.domain.prescriptions.service import ANSWER as RENEWAL_ANSWERED

TEMPLATES: dict[str, Template] = {t.key: t for t in (
    *APPOINTMENT_EMAILS.values(), NEW_MESSAGE, RENEWAL_ANSWERED, *ACCOUNT_EMAILS.values(), EMERGENCY_ACCESS_EMAIL)}
