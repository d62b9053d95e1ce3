"""The one policy point: who is acting, what their role may do, which patients they reach — and why.

``decide(session, actor, action, resource)`` answers every question with a ``Decision``: allowed or
not, the *basis* (role, care team, self …) and the *purpose of use* (treatment, payment …).
``require(...)`` is what services call: it returns the decision, or rolls the caller's transaction
back, records the refusal in a unit of its own and raises ``AccessDenied``. ``reach_filter(actor,
column)`` is the one SQL filter for "patients this actor may reach" (search, lists, reports, FHIR).

Every Action declares its scope in ``SCOPES`` (global, one patient, own account); nothing is
inferred from its name, and an Action without one is denied to everybody (a unit test names it).
A decision is kept on the session (``session.info``) so ``core.audit.record`` writes its basis and
purpose on the use case's own event without every caller passing them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn

from sqlalchemy import UniqueConstraint, bindparam, exists, false, true
from sqlmodel import Field, Session, select

from patient_portal.core import access_facts
from patient_portal.core.db import TimestampedTable, utcnow
from patient_portal.core.errors import ServiceError


class Role(StrEnum):
    ADMIN = "admin"
    DOCTOR = "doctor"
    STAFF = "staff"
    PATIENT = "patient"


class Action(StrEnum):
    """Everything a user can ask for. Names read `<area>.<what>.<verb>`."""

    PATIENT_SEARCH = "patient.search"
    PATIENT_REGISTER = "patient.register"
    PATIENT_SELF_REGISTER = "patient.self_register"
    DEMOGRAPHICS_READ = "patient.demographics.read"
    DEMOGRAPHICS_WRITE = "patient.demographics.write"
    CLINICAL_READ = "patient.clinical.read"
    CLINICAL_WRITE = "patient.clinical.write"
    CLINICAL_REPORT_OWN = "patient.clinical.report_own"  # the patient reports an allergy or a medication they take
    INSURANCE_READ = "patient.insurance.read"
    INSURANCE_WRITE = "patient.insurance.write"
    EMERGENCY_READ = "patient.emergency.read"
    EMERGENCY_WRITE = "patient.emergency.write"
    CLINICAL_DOC_READ = "document.clinical.read"
    CLINICAL_DOC_WRITE = "document.clinical.write"
    ADMIN_DOC_READ = "document.administrative.read"
    ADMIN_DOC_WRITE = "document.administrative.write"
    DOCUMENT_PURGE = "document.purge"
    CARE_TEAM_MANAGE = "careteam.manage"
    CARE_TEAM_DIRECTORY = "careteam.directory.read"
    IDENTITY_REVIEW = "patient.identity.review"
    ACCESS_LOG_OWN = "audit.own.read"
    AUDIT_READ = "audit.read"
    USER_MANAGE = "user.manage"
    REPORTS = "reports.generate"
    SYSTEM_CONFIGURE = "system.configure"
    PATIENT_MERGE = "patient.merge"  # merge a duplicate record into the one kept, and undo it (admins)
    SYSTEM_HEALTH_READ = "system.health.read"  # the system health page: checks, queue, backups, errors (no PHI)
    CODES_SEARCH = "codes.search"  # code tables (ICD-10-CM, CVX, LOINC, formulary): no PHI
    OBSERVATION_READ = "observation.read"  # vital signs and home readings, their trends
    OBSERVATION_WRITE = "observation.write"  # a clinician records a set of vital signs
    OBSERVATION_VERIFY = "observation.verify"  # a clinician confirms a reading the patient reported
    OBSERVATION_REPORT_OWN = "observation.report_own"  # the patient adds a home reading to their own record
    VISIT_READ = "visit.read"  # a visit note in full, drafts too (clinicians; admins for operations)
    VISIT_SUMMARY_READ = "visit.summary.read"  # the patient's own summaries of signed notes
    VISIT_WRITE = "visit.write"  # start a visit note, edit a draft: its author only (AUTHOR_ONLY)
    VISIT_SIGN = "visit.sign"  # sign (lock) a draft: its author only (AUTHOR_ONLY)
    VISIT_ADDENDUM = "visit.addendum.write"  # add an addendum to a signed note: any care-team doctor
    VISIT_WORKLIST = "visit.worklist.read"  # the clinician's own unsigned notes, across their patients
    RESULT_READ = "result.read"  # lab results in full, to review, held and superseded too (clinicians; admins read)
    RESULT_WRITE = "result.write"  # enter, import (CSV) or correct lab results: care-team doctors
    RESULT_RELEASE = "result.release"  # review, comment, release to the patient or hold until discussed
    RESULT_OWN_READ = "result.own.read"  # the patient's own results: released ones (held: only that they wait)
    RESULT_WORKLIST = "result.worklist.read"  # the clinician's results to review, across their patients
    CAREPLAN_READ = "careplan.read"  # care plans with goals, progress and tasks (care team; admins read; own)
    CAREPLAN_WRITE = "careplan.write"  # create and change plans, goals, activities, progress notes (care-team doctors)
    CAREPLAN_TASK_OWN = "careplan.task.own"  # the patient ticks off (or unticks) a task of their own plan
    PATIENT_WORKLIST = "patient.worklist.read"  # My patients: the clinician's own care-team list, with flags
    TIMELINE_READ = "patient.timeline.read"  # every clinical event of one patient, newest first
    PRESCRIPTION_READ = "prescription.read"  # prescriptions, their PDF (care-team doctors, admins; the patient's own)
    PRESCRIPTION_WRITE = "prescription.write"  # prescribe, stop, complete (care-team doctors only)
    PRESCRIPTION_RENEWAL_REQUEST = "prescription.renewal.request"  # the patient asks to renew their own
    PRESCRIPTION_RENEWAL_DECIDE = "prescription.renewal.decide"  # approve or decline a renewal (care-team doctors)
    PRESCRIPTION_WORKLIST = "prescription.worklist.read"  # the doctor's renewal requests, across their patients
    BILLING_SETUP_READ = "billing.setup.read"  # payers, fee schedule, the clinic's billing numbers (no PHI)
    BILLING_SETUP_WRITE = "billing.setup.write"  # keep the payer list, the fee schedule and billing numbers
    COVERAGE_WRITE = "billing.coverage.write"  # benefits on a policy: payer, copay, deductible, subscriber
    ELIGIBILITY_CHECK = "billing.eligibility.check"  # a 270/271-style check of a policy through the clearinghouse
    BILLING_ACCOUNT_READ = "billing.account.read"  # a patient's charges, claims, their history, payments, ledger
    CHARGE_WRITE = "billing.charge.write"  # enter charges from a signed visit or by hand
    CLAIM_WRITE = "billing.claim.write"  # build, validate, submit, correct, appeal and close claims
    PAYMENT_RECORD = "billing.payment.record"  # cash, check and card-at-desk payments, refunds, write-offs
    BILLING_WORKLIST = "billing.worklist.read"  # denials, unmatched remittance, claims by payer, A/R aging
    REMITTANCE_POST = "billing.remittance.post"  # post an 835 (from the clearinghouse or uploaded)
    CHARGE_OWN_READ = "billing.charge.own.read"  # a doctor's charges of their own visits
    STATEMENT_READ = "billing.statement.read"  # a patient's statement: charges, insurance paid, what they owe
    STATEMENT_PAY = "billing.statement.pay"  # the patient pays their own statement online
    APPOINTMENT_READ = "appointment.read"  # one patient's appointments, attendance and waitlist
    APPOINTMENT_WRITE = "appointment.write"  # book, reschedule, cancel, join the waitlist (a patient: own, within the rules)
    APPOINTMENT_ATTENDANCE = "appointment.attendance.write"  # check in, mark a no-show, approve a portal booking
    SCHEDULE_READ = "appointment.schedule.read"  # any doctor's day and week, the staff's notices of portal bookings
    SCHEDULE_OWN_READ = "appointment.schedule.own.read"  # the doctor's own day and week
    SLOTS_SEARCH = "appointment.slots.search"  # free times and visit types (no patient data)
    SCHEDULING_CONFIGURE = "appointment.settings.write"  # visit types, availability, exceptions, the clinic's rules
    SMART_APP_MANAGE = "smart.app.manage"  # register outside (SMART) apps, their redirect URIs and keys
    SMART_AUTHORIZE_OWN = "smart.authorize.own"  # allow an outside app access as oneself; list and revoke those
    PUSH_OWN = "push.own.manage"  # turn push notifications on or off for one's own devices (patients)
    EMERGENCY_INFO_WRITE = "emergency.info.write"  # advance directives and special instructions on a record
    CODE_STATUS_WRITE = "emergency.code_status.write"  # a doctor orders the code status (full code, DNR …)
    PROTOCOL_READ = "emergency.protocol.read"  # the clinic's emergency protocols, to start one (no PHI)
    PROTOCOL_WRITE = "emergency.protocol.write"  # admins write, change and retire emergency protocols
    EMERGENCY_RUN_READ = "emergency.run.read"  # a patient's protocol runs, their checklists and contact statuses
    EMERGENCY_RUN_WRITE = "emergency.run.write"  # start a protocol for a patient, tick its steps, close it
    EMERGENCY_NOTIFY = "emergency.contacts.notify"  # a doctor chooses to notify the emergency contacts
    EMERGENCY_ACCESS_REQUEST = "emergency_access.request"  # break the glass: a clinician off the care team asks
    EMERGENCY_ACCESS_MANAGE = "emergency_access.manage"  # admins: active grants (end one), review tasks
    CONSENT_READ = "consent.read"  # a patient's consents and their history
    CONSENT_OWN_WRITE = "consent.own.write"  # the patient grants or withdraws their own, on the portal
    CONSENT_RECORD = "consent.record"  # the front desk records a paper consent (the scan attached)
    RECORD_SHARE = "patient.record.share"  # send records to an outside system or app: needs the sharing consent
    SENSITIVE_MARK = "record.sensitivity.write"  # mark a condition, document or visit note sensitive (or not)
    DISCLOSURE_READ = "disclosure.read"  # the accounting of disclosures (HIPAA 164.528)
    DISCLOSURE_RECORD = "disclosure.record"  # record a disclosure outside treatment, payment and operations
    AMENDMENT_READ = "amendment.read"  # amendment requests of one patient, their answers and statements
    AMENDMENT_REQUEST = "amendment.request"  # the patient asks to correct their record; adds a disagreement
    AMENDMENT_DECIDE = "amendment.decide"  # a care-team doctor accepts (and amends) or denies with a reason
    AMENDMENT_WORKLIST = "amendment.worklist.read"  # the doctor's open amendment requests, due dates first
    MESSAGE_READ = "message.read"  # a patient's message threads (their own; care team; the front desk; admins read)
    MESSAGE_WRITE = "message.write"  # write to the care team (the patient) or answer (care-team doctors, front desk)
    MESSAGE_POOL = "message.pool.read"  # the triage pool: threads for the front desk and billing, overdue ones
    MESSAGE_ROUTE = "message.route"  # hand a thread to a doctor of the patient's care team or to a pool
    MESSAGE_INBOX = "message.inbox.read"  # the doctor's own threads (and those of a doctor away who delegated)
    MESSAGE_DELEGATE = "message.delegate.write"  # a doctor away names a colleague to answer their messages
    VIDEO_JOIN = "appointment.video.join"  # join (doctor: admit into) the video call of one's own telehealth visit
    TRAINING_MANAGE = "training.manage"  # admins publish policy and training documents, see who has not acknowledged
    TRAINING_ACKNOWLEDGE = "training.acknowledge"  # acknowledge a document one's role must (own account)


A = Action
_STAFF = {
    A.PATIENT_SEARCH, A.PATIENT_REGISTER, A.DEMOGRAPHICS_READ, A.DEMOGRAPHICS_WRITE,
    A.INSURANCE_READ, A.INSURANCE_WRITE, A.EMERGENCY_READ, A.EMERGENCY_WRITE,
    A.ADMIN_DOC_READ, A.ADMIN_DOC_WRITE, A.CARE_TEAM_MANAGE, A.CARE_TEAM_DIRECTORY, A.IDENTITY_REVIEW,
    A.CODES_SEARCH,
    A.APPOINTMENT_READ, A.APPOINTMENT_WRITE, A.APPOINTMENT_ATTENDANCE, A.SCHEDULE_READ, A.SLOTS_SEARCH,
    A.SMART_AUTHORIZE_OWN,  # an outside app acting as them: never more than they may do themselves
}
#: Privacy: the front desk records paper consents, sends records out (with consent) and records the
#: disclosures the accounting lists; in an emergency they may ask for access to clinical data.
_STAFF |= {A.CONSENT_READ, A.CONSENT_RECORD, A.RECORD_SHARE, A.DISCLOSURE_READ, A.DISCLOSURE_RECORD,
           A.EMERGENCY_ACCESS_REQUEST}
#: Staff process insurance and payments (purpose "payment"); they never see clinical notes, only the
#: codes a claim carries.
_STAFF |= {A.BILLING_SETUP_READ, A.COVERAGE_WRITE, A.ELIGIBILITY_CHECK, A.BILLING_ACCOUNT_READ, A.CHARGE_WRITE,
           A.CLAIM_WRITE, A.PAYMENT_RECORD, A.BILLING_WORKLIST, A.REMITTANCE_POST, A.STATEMENT_READ}
#: Emergencies: the front desk keeps directives and instructions on file, starts a protocol and works
#: its checklist (the contacts are notified as the protocol says); code status is a doctor's order.
_STAFF |= {A.EMERGENCY_INFO_WRITE, A.PROTOCOL_READ, A.EMERGENCY_RUN_READ, A.EMERGENCY_RUN_WRITE}
#: Secure messages: the front desk answers the front-desk and billing pools and routes every thread.
_STAFF |= {A.MESSAGE_READ, A.MESSAGE_WRITE, A.MESSAGE_POOL, A.MESSAGE_ROUTE}
#: Training: every role acknowledges the policy documents the clinic asks of it.
_STAFF |= {A.TRAINING_ACKNOWLEDGE}
_DOCTOR = {
    A.PATIENT_SEARCH, A.DEMOGRAPHICS_READ, A.CLINICAL_READ, A.CLINICAL_WRITE, A.INSURANCE_READ,
    A.EMERGENCY_READ, A.CLINICAL_DOC_READ, A.CLINICAL_DOC_WRITE, A.ADMIN_DOC_READ, A.CODES_SEARCH,
    A.OBSERVATION_READ, A.OBSERVATION_WRITE, A.OBSERVATION_VERIFY,
    A.VISIT_READ, A.VISIT_WRITE, A.VISIT_SIGN, A.VISIT_ADDENDUM, A.VISIT_WORKLIST,
    A.PATIENT_WORKLIST, A.TIMELINE_READ,
    A.PRESCRIPTION_READ, A.PRESCRIPTION_WRITE, A.PRESCRIPTION_RENEWAL_DECIDE, A.PRESCRIPTION_WORKLIST,
    A.RESULT_READ, A.RESULT_WRITE, A.RESULT_RELEASE, A.RESULT_WORKLIST,
    A.CHARGE_OWN_READ,  # the charges of their own visits (read only)
    A.CAREPLAN_READ, A.CAREPLAN_WRITE,
    A.APPOINTMENT_READ, A.SCHEDULE_OWN_READ, A.SLOTS_SEARCH,  # their care-team patients' visits; their own day
    A.SMART_AUTHORIZE_OWN,
    A.EMERGENCY_INFO_WRITE, A.CODE_STATUS_WRITE, A.PROTOCOL_READ, A.EMERGENCY_RUN_READ, A.EMERGENCY_RUN_WRITE,
    A.EMERGENCY_NOTIFY,
    A.EMERGENCY_ACCESS_REQUEST, A.CONSENT_READ, A.RECORD_SHARE, A.SENSITIVE_MARK, A.DISCLOSURE_READ,
    A.AMENDMENT_READ, A.AMENDMENT_DECIDE, A.AMENDMENT_WORKLIST,
    A.MESSAGE_READ, A.MESSAGE_WRITE, A.MESSAGE_INBOX, A.MESSAGE_DELEGATE,  # their care-team patients' messages
    A.VIDEO_JOIN,  # the video call of a telehealth visit they are the doctor of
    A.TRAINING_ACKNOWLEDGE,
}
_PATIENT = {
    A.PATIENT_SELF_REGISTER, A.DEMOGRAPHICS_READ, A.DEMOGRAPHICS_WRITE, A.CLINICAL_READ,
    A.INSURANCE_READ, A.INSURANCE_WRITE, A.EMERGENCY_READ, A.EMERGENCY_WRITE,
    A.CLINICAL_DOC_READ, A.CLINICAL_DOC_WRITE, A.ADMIN_DOC_READ, A.ADMIN_DOC_WRITE, A.ACCESS_LOG_OWN,
    A.CODES_SEARCH,  # a patient reports a medication or an allergy by finding it in the formulary
    A.CLINICAL_REPORT_OWN,  # ... on their own record, marked "reported by patient" until a clinician verifies it
    A.OBSERVATION_READ, A.OBSERVATION_REPORT_OWN,
    A.VISIT_SUMMARY_READ,  # summaries of signed notes only; never a draft, never the full note
    A.PRESCRIPTION_READ,  # their own prescriptions (how to take them, the PDF); never the check's findings
    A.PRESCRIPTION_RENEWAL_REQUEST,  # ask for a renewal of their own active prescription
    A.RESULT_OWN_READ,  # released results only; a held report says only that it is ready to discuss
    A.STATEMENT_READ, A.STATEMENT_PAY,  # their own statement, receipts, and paying it online
    A.CAREPLAN_READ,  # their own care plans, in plain words, with progress on their own readings
    A.CAREPLAN_TASK_OWN,  # tick off a task of their own plan (never change the plan)
    A.APPOINTMENT_READ, A.SLOTS_SEARCH,
    A.APPOINTMENT_WRITE,  # their own, within the clinic's rules (notice, limits, care team, no-show pause)
    A.SMART_AUTHORIZE_OWN,  # connect an app to their own record; see and revoke the apps they connected
    A.EMERGENCY_INFO_WRITE,  # their own advance directives and special instructions (never their code status)
    A.CONSENT_READ, A.CONSENT_OWN_WRITE,  # "Privacy and sharing": grant and withdraw their own consents
    A.RECORD_SHARE,  # connect an app to their own record (with their sharing consent)
    A.SENSITIVE_MARK,  # mark their own conditions, documents and visit notes sensitive
    A.DISCLOSURE_READ,  # their accounting of disclosures (PDF)
    A.AMENDMENT_READ, A.AMENDMENT_REQUEST,  # ask to correct their record; a statement of disagreement
    A.MESSAGE_READ, A.MESSAGE_WRITE,  # write to their care team, read the answers (their own threads only)
    A.VIDEO_JOIN,  # the video call of their own telehealth visit
    A.TRAINING_ACKNOWLEDGE,  # a notice the clinic asks patients to acknowledge (privacy practices)
    A.PUSH_OWN,  # notifications of new messages and reminders on their own phones
}
#: What only a treating clinician does: an admin reaches every record to *read* visit notes (for
#: operations — a records request, a quality or legal review; basis "role", purpose "operations",
#: both on the audit event and so in the patient's access log) but never writes, signs or adds to
#: a clinical note, and has no worklist of their own.
#: The same holds for prescriptions: an admin reads them (and their PDF) for operations — a
#: pharmacy's call, a records request, a review of overrides — but never prescribes, stops, decides a
#: renewal or has renewal requests of their own: a prescription carries a prescriber's licence.
_CLINICIAN_ONLY = {A.VISIT_WRITE, A.VISIT_SIGN, A.VISIT_ADDENDUM, A.VISIT_WORKLIST,
                   A.PRESCRIPTION_WRITE, A.PRESCRIPTION_RENEWAL_DECIDE, A.PRESCRIPTION_WORKLIST}

#: My patients is a treating clinician's own care-team list: an admin has no care team, so no list.
_CLINICIAN_ONLY |= {A.PATIENT_WORKLIST}

#: Lab results: an admin reads them for operations (basis role) but never enters, corrects, reviews,
#: releases or holds them, and has no results to review of their own.
_CLINICIAN_ONLY |= {A.RESULT_WRITE, A.RESULT_RELEASE, A.RESULT_WORKLIST}

#: Billing: an admin does everything staff do and keeps the payer list and fee schedule; only a
#: doctor has charges of their own visits, and only the patient pays their own statement online
#: (staff and admins record a payment at the desk instead).
_CLINICIAN_ONLY |= {A.CHARGE_OWN_READ}
#: Care plans: an admin reads them for operations (basis role) but never writes a plan, a goal, an
#: activity or a progress note — that is the treating clinician's.
_CLINICIAN_ONLY |= {A.CAREPLAN_WRITE}
#: A doctor's own day and week: an admin has no schedule of their own (they read any doctor's).
_CLINICIAN_ONLY |= {A.SCHEDULE_OWN_READ}
#: Emergencies: an admin writes the clinic's protocols and reads runs for operations (a review of
#: what happened), but is not on duty: never starts or works a protocol, never orders a code status,
#: never chooses to notify a patient's contacts.
_CLINICIAN_ONLY |= {A.CODE_STATUS_WRITE, A.EMERGENCY_RUN_WRITE, A.EMERGENCY_NOTIFY}
#: Privacy: an admin reaches every record already (never a sensitive one: only emergency access opens
#: those, and admins do not break the glass); a treating doctor marks records sensitive and answers
#: amendment requests; a patient's consents are theirs (or the front desk's paper record of them).
_CLINICIAN_ONLY |= {A.EMERGENCY_ACCESS_REQUEST, A.SENSITIVE_MARK, A.AMENDMENT_DECIDE, A.AMENDMENT_WORKLIST}
#: Messages: an admin reads threads and works the triage pool (routing) for operations, but does not
#: answer patients (that is the care team's and the front desk's), and has no inbox or delegate.
_CLINICIAN_ONLY |= {A.MESSAGE_WRITE, A.MESSAGE_INBOX, A.MESSAGE_DELEGATE}
#: Video visits: a call is the two people of the appointment's; an admin never joins one.
_CLINICIAN_ONLY |= {A.VIDEO_JOIN}

#: The role matrix, readable at a glance. Admin reaches everything but what only a patient does for
#: themselves (sign up, their own access log, a home reading or a report of their own).
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(set(Action) - {A.PATIENT_SELF_REGISTER, A.ACCESS_LOG_OWN, A.OBSERVATION_REPORT_OWN,
                                           A.CLINICAL_REPORT_OWN, A.PRESCRIPTION_RENEWAL_REQUEST,
                                           A.RESULT_OWN_READ, A.STATEMENT_PAY, A.CAREPLAN_TASK_OWN,
                                           A.CONSENT_OWN_WRITE, A.AMENDMENT_REQUEST, A.PUSH_OWN}
                          - _CLINICIAN_ONLY),
    Role.STAFF: frozenset(_STAFF),
    Role.DOCTOR: frozenset(_DOCTOR),
    Role.PATIENT: frozenset(_PATIENT),
}

class Scope(StrEnum):
    """What an Action is about, and so which object check it needs."""

    GLOBAL = "global"  # no one object: search, registration, reports, system settings
    PATIENT = "patient"  # one patient's record: needs the patient id and the reach check
    OWN_ACCOUNT = "own_account"  # the actor's own account or record only


#: Every Action's scope, declared: a new Action is denied to everyone until it has one here.
SCOPES: dict[Action, Scope] = {
    A.PATIENT_SEARCH: Scope.GLOBAL,
    A.PATIENT_REGISTER: Scope.GLOBAL,
    A.PATIENT_SELF_REGISTER: Scope.OWN_ACCOUNT,
    A.DEMOGRAPHICS_READ: Scope.PATIENT,
    A.DEMOGRAPHICS_WRITE: Scope.PATIENT,
    A.CLINICAL_READ: Scope.PATIENT,
    A.CLINICAL_WRITE: Scope.PATIENT,
    A.CLINICAL_REPORT_OWN: Scope.PATIENT,  # the patient's own record only (the reach rule: self)
    A.INSURANCE_READ: Scope.PATIENT,
    A.INSURANCE_WRITE: Scope.PATIENT,
    A.EMERGENCY_READ: Scope.PATIENT,
    A.EMERGENCY_WRITE: Scope.PATIENT,
    A.CLINICAL_DOC_READ: Scope.PATIENT,
    A.CLINICAL_DOC_WRITE: Scope.PATIENT,
    A.ADMIN_DOC_READ: Scope.PATIENT,
    A.ADMIN_DOC_WRITE: Scope.PATIENT,
    A.DOCUMENT_PURGE: Scope.PATIENT,
    A.CARE_TEAM_MANAGE: Scope.PATIENT,
    A.CARE_TEAM_DIRECTORY: Scope.GLOBAL,
    A.IDENTITY_REVIEW: Scope.GLOBAL,
    A.ACCESS_LOG_OWN: Scope.OWN_ACCOUNT,
    A.AUDIT_READ: Scope.GLOBAL,
    A.USER_MANAGE: Scope.GLOBAL,
    A.REPORTS: Scope.GLOBAL,
    A.SYSTEM_CONFIGURE: Scope.GLOBAL,
    A.SYSTEM_HEALTH_READ: Scope.GLOBAL,
    A.PATIENT_MERGE: Scope.GLOBAL,  # about two records at once; the use case audits under both ids
    A.CODES_SEARCH: Scope.GLOBAL,
    A.OBSERVATION_READ: Scope.PATIENT,
    A.OBSERVATION_WRITE: Scope.PATIENT,
    A.OBSERVATION_VERIFY: Scope.PATIENT,
    A.OBSERVATION_REPORT_OWN: Scope.PATIENT,  # the patient's own record only (the reach rule: self)
    A.VISIT_READ: Scope.PATIENT,
    A.VISIT_SUMMARY_READ: Scope.PATIENT,
    A.VISIT_WRITE: Scope.PATIENT,
    A.VISIT_SIGN: Scope.PATIENT,
    A.VISIT_ADDENDUM: Scope.PATIENT,
    A.VISIT_WORKLIST: Scope.OWN_ACCOUNT,
    A.PATIENT_WORKLIST: Scope.OWN_ACCOUNT,
    A.TIMELINE_READ: Scope.PATIENT,
    A.PRESCRIPTION_READ: Scope.PATIENT,
    A.PRESCRIPTION_WRITE: Scope.PATIENT,
    A.PRESCRIPTION_RENEWAL_REQUEST: Scope.PATIENT,  # the patient's own record only (the reach rule: self)
    A.PRESCRIPTION_RENEWAL_DECIDE: Scope.PATIENT,
    A.PRESCRIPTION_WORKLIST: Scope.OWN_ACCOUNT,
    A.RESULT_READ: Scope.PATIENT,
    A.RESULT_WRITE: Scope.PATIENT,
    A.RESULT_RELEASE: Scope.PATIENT,
    A.RESULT_OWN_READ: Scope.PATIENT,  # the patient's own record only (the reach rule: self)
    A.RESULT_WORKLIST: Scope.OWN_ACCOUNT,
    A.BILLING_SETUP_READ: Scope.GLOBAL,
    A.BILLING_SETUP_WRITE: Scope.GLOBAL,
    A.COVERAGE_WRITE: Scope.PATIENT,
    A.ELIGIBILITY_CHECK: Scope.PATIENT,
    A.BILLING_ACCOUNT_READ: Scope.PATIENT,
    A.CHARGE_WRITE: Scope.PATIENT,
    A.CLAIM_WRITE: Scope.PATIENT,
    A.PAYMENT_RECORD: Scope.PATIENT,
    A.BILLING_WORKLIST: Scope.GLOBAL,
    A.REMITTANCE_POST: Scope.GLOBAL,  # one 835 pays claims of many patients; each posting is audited per patient
    A.CHARGE_OWN_READ: Scope.OWN_ACCOUNT,
    A.STATEMENT_READ: Scope.PATIENT,
    A.STATEMENT_PAY: Scope.PATIENT,  # the patient's own record only (the reach rule: self)
    A.CAREPLAN_READ: Scope.PATIENT,
    A.CAREPLAN_WRITE: Scope.PATIENT,
    A.CAREPLAN_TASK_OWN: Scope.PATIENT,  # the patient's own record only (the reach rule: self)
    A.APPOINTMENT_READ: Scope.PATIENT,
    A.APPOINTMENT_WRITE: Scope.PATIENT,
    A.APPOINTMENT_ATTENDANCE: Scope.PATIENT,
    A.SCHEDULE_READ: Scope.GLOBAL,
    A.SCHEDULE_OWN_READ: Scope.OWN_ACCOUNT,
    A.SLOTS_SEARCH: Scope.GLOBAL,
    A.SCHEDULING_CONFIGURE: Scope.GLOBAL,
    A.SMART_APP_MANAGE: Scope.GLOBAL,
    A.SMART_AUTHORIZE_OWN: Scope.OWN_ACCOUNT,
    A.PUSH_OWN: Scope.OWN_ACCOUNT,
    A.EMERGENCY_INFO_WRITE: Scope.PATIENT,
    A.CODE_STATUS_WRITE: Scope.PATIENT,
    A.PROTOCOL_READ: Scope.GLOBAL,
    A.PROTOCOL_WRITE: Scope.GLOBAL,
    A.EMERGENCY_RUN_READ: Scope.PATIENT,
    A.EMERGENCY_RUN_WRITE: Scope.PATIENT,
    A.EMERGENCY_NOTIFY: Scope.PATIENT,
    #: asked about one patient the requester does NOT reach (that is the point): no reach check; the
    #: use case names the patient, and its event (in the patient's log) carries it
    A.EMERGENCY_ACCESS_REQUEST: Scope.GLOBAL,
    A.EMERGENCY_ACCESS_MANAGE: Scope.GLOBAL,
    A.CONSENT_READ: Scope.PATIENT,
    A.CONSENT_OWN_WRITE: Scope.PATIENT,  # the patient's own record only (the reach rule: self)
    A.CONSENT_RECORD: Scope.PATIENT,
    A.RECORD_SHARE: Scope.PATIENT,
    A.SENSITIVE_MARK: Scope.PATIENT,
    A.DISCLOSURE_READ: Scope.PATIENT,
    A.DISCLOSURE_RECORD: Scope.PATIENT,
    A.AMENDMENT_READ: Scope.PATIENT,
    A.AMENDMENT_REQUEST: Scope.PATIENT,  # the patient's own record only (the reach rule: self)
    A.AMENDMENT_DECIDE: Scope.PATIENT,
    A.AMENDMENT_WORKLIST: Scope.OWN_ACCOUNT,
    A.MESSAGE_READ: Scope.PATIENT,
    A.MESSAGE_WRITE: Scope.PATIENT,
    A.MESSAGE_POOL: Scope.GLOBAL,
    A.MESSAGE_ROUTE: Scope.PATIENT,
    A.MESSAGE_INBOX: Scope.OWN_ACCOUNT,
    A.VIDEO_JOIN: Scope.PATIENT,
    A.MESSAGE_DELEGATE: Scope.OWN_ACCOUNT,
    A.TRAINING_MANAGE: Scope.GLOBAL,
    A.TRAINING_ACKNOWLEDGE: Scope.OWN_ACCOUNT,
}

#: Actions on a resource only its author may take (a draft visit note is edited and signed by the
#: clinician who wrote it). ``decide`` reads ``Resource.author_id``: another author is refused
#: ("not_author"); None names a resource not yet written, whose author the actor becomes.
AUTHOR_ONLY = frozenset({A.VISIT_WRITE, A.VISIT_SIGN})

#: Actions with a recipient (``Resource.recipient_id``): a message written to a doctor, a thread routed
#: to one. The recipient must be on the patient's care team ("recipient_off_care_team" otherwise) —
#: a patient cannot write to a doctor who does not treat them, nor staff hand them such a thread.
RECIPIENT_ON_CARE_TEAM = frozenset({A.MESSAGE_WRITE, A.MESSAGE_ROUTE})

#: Actions only the people named in ``Resource.participants`` may take (a video call belongs to the
#: appointment's patient and doctor: no colleague, front desk or emergency grant joins it);
#: anyone else is refused ("not_participant").
PARTICIPANTS_ONLY = frozenset({A.VIDEO_JOIN})

#: Actions about one patient's data: these need the patient id for the object check.
PATIENT_SCOPED = frozenset(a for a, scope in SCOPES.items() if scope is Scope.PATIENT)


class Basis(StrEnum):
    """Why an access was allowed (written on its audit event)."""

    ROLE = "role"  # the role reaches every patient for this action (admin, front desk)
    CARE_TEAM = "care_team"  # a clinician on the patient's care team
    SELF = "self"  # the patient's own record or account
    EMERGENCY_GRANT = "emergency_grant"  # break-the-glass (emergency access area)
    CONSENT = "consent"  # the patient's recorded consent (consent area)
    PERMISSION_SET = "permission_set"  # a configured permission set (administration area)


class Purpose(StrEnum):
    """The purpose of use (HIPAA's treatment, payment, operations; the patient's own request …)."""

    TREATMENT = "treatment"
    PAYMENT = "payment"
    OPERATIONS = "operations"
    PATIENT_REQUEST = "patient_request"
    EMERGENCY = "emergency"
    RESEARCH = "research"


#: The purpose an access serves when the caller names none: a clinician treats, the front desk
#: runs the clinic (insurance work is payment), a patient asks for their own data.
_INSURANCE = frozenset({A.INSURANCE_READ, A.INSURANCE_WRITE})
#: Billing serves payment whoever acts: staff billing a claim, a doctor looking at the charges of
#: their visits, a patient paying their statement (HIPAA's "payment" purpose).
PAYMENT_ACTIONS = frozenset({
    A.BILLING_SETUP_READ, A.BILLING_SETUP_WRITE, A.COVERAGE_WRITE, A.ELIGIBILITY_CHECK, A.BILLING_ACCOUNT_READ,
    A.CHARGE_WRITE, A.CLAIM_WRITE, A.PAYMENT_RECORD, A.BILLING_WORKLIST, A.REMITTANCE_POST, A.CHARGE_OWN_READ,
    A.STATEMENT_READ, A.STATEMENT_PAY,
})


def default_purpose(role: Role, action: Action) -> Purpose:
    if action in PAYMENT_ACTIONS:
        return Purpose.PAYMENT
    if role is Role.PATIENT:
        return Purpose.PATIENT_REQUEST
    if action in _INSURANCE and role is not Role.DOCTOR:
        return Purpose.PAYMENT
    if role is Role.DOCTOR:
        return Purpose.TREATMENT
    return Purpose.OPERATIONS


@dataclass(frozen=True)
class Resource:
    """What an action is about, with the attributes the policy reads.

    ``patient_id`` for patient-scoped actions; ``owner_id`` the user an own-account action is about
    (None: the actor's own); ``category``/``sensitivity``/``author_id`` for areas whose rows differ
    in who may see them (a later area's rules read these here, never in the area's own code)."""

    patient_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    category: str | None = None
    #: a sensitive record's category (mental_health, sexual_health, substance_use), None when not
    #: sensitive: then only the patient, its author and the clinicians assigned to it see it
    sensitivity: str | None = None
    author_id: uuid.UUID | None = None
    #: the clinicians a sensitive record is assigned to (besides its author)
    assigned: frozenset[uuid.UUID] = frozenset()
    #: who a message is written (or a thread routed) to, for RECIPIENT_ON_CARE_TEAM actions: a doctor
    #: who must be on the patient's care team; None for a pool (front desk, billing)
    recipient_id: uuid.UUID | None = None
    #: the user accounts a PARTICIPANTS_ONLY action belongs to (a video visit's patient and doctor)
    participants: frozenset[uuid.UUID] = frozenset()


@dataclass(frozen=True)
class Decision:
    """The policy's answer. ``reason`` names a refusal for the audit trail (never shown)."""

    allowed: bool
    action: Action
    basis: Basis | None = None
    purpose: Purpose | None = None
    reason: str = ""
    patient_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Actor:
    """Who is acting, as decided on the server from the session."""

    user_id: uuid.UUID
    role: Role
    display_name: str = ""
    patient_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    ip: str | None = None
    #: what the actor's permission set lets them do (``core.capabilities.effective``: never beyond the
    #: role's ceiling), read with the session; None: no set, the role's full permissions
    permissions: frozenset[Action] | None = None

    def can(self, action: Action) -> bool:
        """Role-level permission (narrowed by the permission set), no object check; for showing or
        hiding UI, and decide()'s first question."""
        if self.permissions is not None:
            return action in self.permissions
        return action in PERMISSIONS.get(self.role, frozenset())


class AccessDenied(ServiceError):
    """The actor may not do this (the error family's refusal). The message is safe to show."""

    status = 403

    def __init__(self, message: str = "You do not have permission to do that."):
        super().__init__(message)

    @property
    def must_sign_in(self) -> bool:
        return "sign in" in str(self).lower()


class CareTeamMember(TimestampedTable, table=True):
    """A clinician assigned to a patient's care team."""

    __tablename__ = "care_team_member"
    __table_args__ = (UniqueConstraint("patient_id", "user_id"),)

    patient_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = Field(index=True)
    assigned_by: uuid.UUID | None = None


def on_care_team(session: Session, user_id: uuid.UUID, patient_id: uuid.UUID) -> bool:
    stmt = select(CareTeamMember.id).where(
        CareTeamMember.user_id == user_id, CareTeamMember.patient_id == patient_id
    )
    return session.exec(stmt).first() is not None


#: What ``_reach`` answers for a consent it did not look up.
_NOT_ASKED = object()


_FACTS_STATEMENTS: dict[tuple[bool, bool], Any] = {}


def _doctor_facts_statement(ask_grant: bool, ask_consent: bool) -> Any:
    """The statement of ``_doctor_facts``, built once per shape with bound parameters (user_id,
    patient_id, now, purpose) and run on the Core connection: building and caching a fresh ORM select
    on every decision was most of decide()'s cost (about 1 ms of CPU against a 0.3 ms round trip)."""
    key = (ask_grant, ask_consent)
    if key not in _FACTS_STATEMENTS:
        user, patient = bindparam("user_id"), bindparam("patient_id")
        columns: list[Any] = [exists().where(CareTeamMember.user_id == user, CareTeamMember.patient_id == patient)]
        if ask_grant:
            columns.append(access_facts.grant_query(user, patient, now=bindparam("now")).scalar_subquery())
        if ask_consent:
            columns.append(access_facts.consent_query(patient, bindparam("purpose")).scalar_subquery())
        _FACTS_STATEMENTS[key] = select(*columns)
    return _FACTS_STATEMENTS[key]


def _doctor_facts(session: Session, user_id: uuid.UUID, patient_id: uuid.UUID, consent: str | None
                  ) -> tuple[bool, Any]:
    """(on the care team, the consent status asked for or _NOT_ASKED) in ONE statement that also
    looks up the doctor's running emergency grant (kept for the unit: ``access_facts.grant_until``):
    a doctor on the team, a doctor off it under emergency access and a consent-decided action all cost
    decide() one round trip."""
    ask_grant = not access_facts.known_grant(session, user_id, patient_id)
    row = tuple(session.connection().execute(_doctor_facts_statement(ask_grant, consent is not None), {
        "user_id": user_id, "patient_id": patient_id, "now": utcnow(), "purpose": consent}).one())
    if ask_grant:
        access_facts.note_grant(session, user_id, patient_id, row[1])
    return bool(row[0]), row[-1] if consent is not None else _NOT_ASKED


def _reach(session: Session, actor: Actor, patient_id: uuid.UUID, consent: str | None = None
           ) -> tuple[Basis | None, Any]:
    """How this actor reaches this patient's record at all (or None), and — for a doctor, read in
    the same statement — the status of the consent `consent` (else _NOT_ASKED)."""
    if actor.role in (Role.ADMIN, Role.STAFF):
        return Basis.ROLE, _NOT_ASKED
    if actor.role == Role.PATIENT:
        return (Basis.SELF if actor.patient_id is not None and actor.patient_id == patient_id else None), _NOT_ASKED
    if actor.role == Role.DOCTOR:
        on_team, status = _doctor_facts(session, actor.user_id, patient_id, consent)
        return (Basis.CARE_TEAM if on_team else None), status
    return None, _NOT_ASKED


def _reach_basis(session: Session, actor: Actor, patient_id: uuid.UUID) -> Basis | None:
    """How this actor reaches this patient's record at all, or None."""
    return _reach(session, actor, patient_id)[0]


def reaches_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> bool:
    """Object check only: may this actor reach this patient's record at all?"""
    return _reach_basis(session, actor, patient_id) is not None


def reach_filter(actor: Actor | None, patient_column: Any) -> Any:
    """The SQL condition on `patient_column` (a patient id column) for "patients this actor may
    reach": the same rule as reaches_patient, for lists and searches."""
    if actor is None:
        return false()
    if actor.role in (Role.ADMIN, Role.STAFF):
        return true()
    if actor.role == Role.PATIENT:
        return patient_column == actor.patient_id if actor.patient_id is not None else false()
    if actor.role == Role.DOCTOR:
        return patient_column.in_(select(CareTeamMember.patient_id).where(CareTeamMember.user_id == actor.user_id))
    return false()


#: What an emergency grant opens, by role (besides what the role reaches anyway): for a doctor off
#: the care team every patient action of a treating doctor but the privacy ones, which are no
#: emergency's (consents, sharing records out, sensitivity marks, disclosures, amendments); for the
#: front desk reading clinical data. Admins do not break the glass. Everything done under a grant
#: has basis "emergency_grant" and purpose "emergency".
_NOT_IN_EMERGENCY = frozenset({A.CONSENT_READ, A.RECORD_SHARE, A.SENSITIVE_MARK, A.DISCLOSURE_READ, A.AMENDMENT_READ,
                               A.AMENDMENT_DECIDE, A.MESSAGE_READ, A.MESSAGE_WRITE, A.VIDEO_JOIN})
EMERGENCY_OPENS: dict[Role, frozenset[Action]] = {
    Role.DOCTOR: frozenset(a for a in _DOCTOR if SCOPES.get(a) is Scope.PATIENT) - _NOT_IN_EMERGENCY,
    Role.STAFF: frozenset({A.CLINICAL_READ, A.CLINICAL_DOC_READ, A.OBSERVATION_READ, A.VISIT_READ, A.RESULT_READ,
                           A.PRESCRIPTION_READ, A.TIMELINE_READ, A.CAREPLAN_READ}),
}

#: Actions the patient's consent decides (the purpose consented to): decide() allows them only while
#: ``access_facts.consent_allows`` says so, with basis "consent". A use under purpose "research"
#: needs the research consent, whatever the action.
CONSENT_ACTIONS: dict[Action, str] = {A.RECORD_SHARE: access_facts.SHARING}


def sees_sensitive(actor: Actor, basis: Basis | None, resource: Resource) -> bool:
    """May someone who reaches the record on `basis` see this sensitive record? The patient (their
    own), its author, and the care-team clinicians assigned to it; nobody else (emergency access
    is decided apart, in ``decide``)."""
    if basis is Basis.SELF:
        return True
    return basis is Basis.CARE_TEAM and (actor.user_id == resource.author_id or actor.user_id in resource.assigned)


def emergency_until(session: Session, actor: Actor | None, patient_id: uuid.UUID | None):
    """When this actor's emergency access to this patient ends (None: none now). One indexed
    statement per unit of work (``access_facts.grant_until``); only roles that may break the glass ask."""
    if actor is None or patient_id is None or actor.role not in EMERGENCY_OPENS:
        return None
    return access_facts.grant_until(session, actor.user_id, patient_id)


def shows(session: Session, actor: Actor, decision: Decision, resource: Resource) -> bool:
    """For a list the policy let `actor` read (`decision`, the list's own): is this row shown? A row
    that is not sensitive always; a sensitive one as ``decide`` would answer for it — to the patient,
    its author and assigned clinicians, under an emergency grant — without asking per row: the
    list's basis says who is reading, and the grant is looked up once per unit at most."""
    if not resource.sensitivity or decision.basis is Basis.EMERGENCY_GRANT:
        return True
    if sees_sensitive(actor, decision.basis, resource):
        return True
    return (decision.action in EMERGENCY_OPENS.get(actor.role, frozenset())
            and emergency_until(session, actor, resource.patient_id) is not None)


def can_on(session: Session, actor: Actor | None, action: Action, patient_id: uuid.UUID | None) -> bool:
    """``actor.can`` for a screen about one patient: the role's answer, or — for the front desk's
    clinical reads — an emergency grant on this patient. What a page shows, never what protects it."""
    if actor is None:
        return False
    if actor.can(action):
        return True
    return action in EMERGENCY_OPENS.get(actor.role, frozenset()) and emergency_until(session, actor, patient_id) is not None


def decide(session: Session, actor: Actor | None, action: Action, resource: Resource | None = None, *,
           purpose: Purpose | None = None) -> Decision:
    """The policy's answer for `actor` doing `action` on `resource` (deny by default).

    In order: signed in; the action has a scope; the role may do it (or an emergency grant could
    open it); own-account and global scopes; the patient is named; an author-only action is the
    author's; the actor reaches the patient (care team, self, role) and — for a sensitive record —
    is one who sees it; failing that, an active emergency grant (basis emergency_grant, purpose
    emergency); a message's recipient doctor on the patient's care team (RECIPIENT_ON_CARE_TEAM);
    then the patient's consent for the actions and purposes it decides (basis consent).
    Grants are looked up only when nothing else allows, consents only for the actions they decide."""
    resource = resource or Resource()
    pid = resource.patient_id
    if actor is None:
        return Decision(False, action, reason="signed_out", patient_id=pid)
    scope = SCOPES.get(action)
    if scope is None:
        return Decision(False, action, reason="no_scope", patient_id=pid)
    by_role = actor.can(action)
    if not by_role and action not in EMERGENCY_OPENS.get(actor.role, frozenset()):
        return Decision(False, action, reason="role", patient_id=pid)
    why = purpose or default_purpose(actor.role, action)
    if scope is Scope.GLOBAL:
        basis = Basis.ROLE if actor.permissions is None else Basis.PERMISSION_SET
        return Decision(True, action, basis, why, patient_id=pid)
    if scope is Scope.OWN_ACCOUNT:
        if resource.owner_id is not None and resource.owner_id != actor.user_id:
            return Decision(False, action, reason="not_own", patient_id=pid)
        return Decision(True, action, Basis.SELF, why, patient_id=pid)
    if pid is None:
        return Decision(False, action, reason="no_patient")
    if action in AUTHOR_ONLY and resource.author_id is not None and resource.author_id != actor.user_id:
        return Decision(False, action, reason="not_author", patient_id=pid)
    if action in PARTICIPANTS_ONLY and actor.user_id not in resource.participants:
        return Decision(False, action, reason="not_participant", patient_id=pid)
    consent = CONSENT_ACTIONS.get(action) or (access_facts.RESEARCH if why is Purpose.RESEARCH else None)
    basis, status = _reach(session, actor, pid, consent) if by_role else (None, _NOT_ASKED)
    refusal = "role" if not by_role else "not_reached"
    if basis is not None and resource.sensitivity and not sees_sensitive(actor, basis, resource):
        basis, refusal = None, "sensitive"
    if basis is None:
        if action in EMERGENCY_OPENS.get(actor.role, frozenset()) and emergency_until(session, actor, pid):
            return Decision(True, action, Basis.EMERGENCY_GRANT, Purpose.EMERGENCY, patient_id=pid)
        return Decision(False, action, reason=refusal, patient_id=pid)
    if (resource.recipient_id is not None and action in RECIPIENT_ON_CARE_TEAM
            and not on_care_team(session, resource.recipient_id, pid)):
        return Decision(False, action, reason="recipient_off_care_team", patient_id=pid)
    if consent is not None:
        allowed = access_facts.consent_allows(session, pid, consent) if status is _NOT_ASKED \
            else access_facts.allows(consent, status)
        if not allowed:
            return Decision(False, action, reason="no_consent", patient_id=pid)
        basis = Basis.CONSENT
    return Decision(True, action, basis, why, patient_id=pid)


def remember(session: Session, decision: Decision) -> None:
    """Keep an allowing decision on the session for the use case's audit events (core.audit)."""
    session.info.setdefault("portal_decisions", {})[decision.patient_id] = decision


def decision_for(session: Session, patient_id: uuid.UUID | None) -> Decision | None:
    """The decision this unit of work took about `patient_id` (or its global one)."""
    kept = session.info.get("portal_decisions") or {}
    return kept.get(patient_id) or kept.get(None)


def require(session: Session, actor: Actor | None, action: Action, resource: Resource | None = None, *,
            purpose: Purpose | None = None, audit_as: str | None = None, object_type: str | None = None,
            object_id: Any = None, message: str | None = None) -> Decision:
    """``decide``, and on a refusal: roll the caller's transaction back (on SQLite it may hold the
    write lock), record the refusal in its own unit — as `audit_as` (default: the action), with
    `object_type`/`object_id` when given — and raise AccessDenied(`message`). The one copy of
    "authorize, then audit the refusal"."""
    decision = decide(session, actor, action, resource, purpose=purpose)
    if decision.allowed:
        remember(session, decision)
        return decision
    refuse(session, actor, audit_as or str(action), reason=decision.reason, patient_id=decision.patient_id,
           object_type=object_type, object_id=object_id,
           message="Please sign in." if actor is None else message)


def refuse(session: Session | None, actor: Actor | None, what: str, *, reason: str,
           patient_id: uuid.UUID | None = None, object_type: str | None = None, object_id: Any = None,
           message: str | None = None) -> NoReturn:
    """Refuse: roll the caller's transaction back, record the refusal (`what`, with `reason`) in its
    own unit, raise AccessDenied(`message`). Also for an area's own rules of refusal (a proposer
    confirming their own proposal), so every refusal is recorded the same way."""
    from patient_portal.core import audit  # audit imports this module (Actor); import at use

    if session is not None:
        session.rollback()  # on SQLite the caller may hold the write lock the refusal needs
    audit.record_now(actor, what, patient_id=patient_id,
                     object_type=object_type or ("patient" if patient_id else None),
                     object_id=object_id if object_id is not None else patient_id, outcome="denied",
                     detail={"reason": reason})
    raise AccessDenied(message) if message else AccessDenied()


def authorize(session: Session, actor: Actor | None, action: Action, *, patient_id: uuid.UUID | None = None) -> Actor:
    """Allow or raise AccessDenied, without auditing (for checks whose caller audits, and tests).
    Returns the actor so callers can chain."""
    decision = decide(session, actor, action, Resource(patient_id=patient_id))
    if not decision.allowed:
        raise AccessDenied("Please sign in." if actor is None else "You do not have permission to do that.")
    assert actor is not None
    remember(session, decision)
    return actor
