"""The job that closes an emergency grant at its end (core.jobs.HANDLER_MODULES names this module).

``emergency_access.ended`` runs at the grant's planned end, or at once when someone ended it early
(``service.end_grant`` moves the job under the same key). In one unit, with the grant locked on
PostgreSQL: nothing happens if it was closed already (``closed_at``: a second worker, a retry) or
if it still runs (the job came early); a grant that ran out by itself gets its end event (DICOM
110138, by "expiry"); then — PORTAL_EMERGENCY_ACCESS_TELL_PATIENT — the patient is emailed in plain
words: who, when, why (the reason's words from the short list, never the free text), and where to
see everything that was looked at. The email is on the outbox in the same unit: sent once, after the
commit, retried while the mail server is down.
"""

from __future__ import annotations

import uuid

from sqlmodel import select

from patient_portal.core import audit, clinic_config, jobs, mail, mail_wording
from patient_portal.core.access import Basis, Purpose
from patient_portal.core.access_facts import EmergencyGrant
from patient_portal.core.clock import plain_time
from patient_portal.core.db import unit_of_work, utcnow
from patient_portal.core.mail_wording import Template
from patient_portal.domain.breakglass.dto import END, REASON_WORDS, STOPPED
from patient_portal.domain.breakglass.service import ENDED_JOB, OBJECT, _aware
from patient_portal.domain.identity.models import User
from patient_portal.domain.patients.models import Patient
from patient_portal.settings import get_settings

#: what the email is for (who, when, why, where to look) stays whatever an admin rewords
EMAIL = Template(
    "breakglass.used", "Emergency access: your record was opened",
    "Emergency access to your record at {clinic}",
    "This is to let you know that {who} ({role}) opened your health record at {clinic} using emergency "
    "access, from {start} to {end}.\n\nThe reason given: {reason}.\n\nEmergency access is used when "
    "someone outside your care team needs your record urgently. Every use is checked by the clinic. You "
    "can see what was looked at under \"Who has looked at my record\":\n{base}/patient/access-log\n\n"
    "If you have questions, please call the clinic. Please do not reply to this email.\n",
    {"who": "Dr. Sam Carter", "role": "doctor", "clinic": "Harbor Family Clinic", "start": "Tue 8 Dec, 09:30",
     "end": "Tue 8 Dec, 10:30", "reason": "a medical emergency", "base": "https://portal.example-clinic.org"},
    required=("who", "start", "end", "reason", "base"))
ROLE_WORDS = {"doctor": "doctor", "staff": "clinic staff"}


@jobs.handler(ENDED_JOB)
def grant_ended(payload: dict) -> None:
    grant_id = uuid.UUID(payload["grant_id"])
    with unit_of_work() as session:
        stmt = select(EmergencyGrant).where(EmergencyGrant.id == grant_id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        grant = session.exec(stmt).first()
        if grant is None or grant.closed_at is not None:
            return
        now = utcnow()
        if grant.ended_at is None:
            if _aware(grant.expires_at) > now:
                return  # early: the job under this key runs again at the end
            grant.ended_at = grant.expires_at
            audit.record(session, None, END, patient_id=grant.patient_id, object_type=OBJECT, object_id=grant.id,
                         purpose=Purpose.EMERGENCY.value, basis=Basis.EMERGENCY_GRANT.value,
                         detail={**STOPPED, "by": "expiry"})
        grant.closed_at = now
        session.add(grant)
        settings = get_settings()
        patient = session.get(Patient, grant.patient_id)
        if not settings.emergency_access_tell_patient or patient is None or not patient.email:
            return
        holder = session.get(User, grant.user_id)
        values = {"who": (holder.display_name if holder else "") or "A clinic user",
                  "role": ROLE_WORDS.get(grant.role, "clinic user"), "clinic": clinic_config.current().clinic_name,
                  "start": plain_time(_aware(grant.started_at)), "end": plain_time(_aware(grant.ended_at)),
                  "reason": REASON_WORDS.get(grant.reason_code, "an emergency"), "base": settings.public_url}
        subject, text = mail_wording.render(EMAIL, **values)
        mail.queue(session, mail.Mail(to=patient.email, subject=subject, text=text))
        audit.record(session, None, "emergency_access.patient_told", patient_id=grant.patient_id, object_type=OBJECT,
                     object_id=grant.id, detail={"channel": "email"})
