"""Capabilities: the fixed list a permission set is made of, and what a set lets its holder do.

A permission set (``domain/identity/permission_sets.py``) narrows a role: its holder may do the
actions of the set's capabilities (and the always-on ``BASE``) — never more than the role's ceiling
(``core.access.PERMISSIONS``), because ``effective`` intersects with it. Every action of every
staff role belongs to some capability (a unit test names any that does not), so a set with every
capability the role is offered is the full role, and so is no set at all (the default).
"""

from __future__ import annotations

from dataclasses import dataclass

from patient_portal.core.access import PERMISSIONS, Action, Role

A = Action


@dataclass(frozen=True)
class Capability:
    key: str
    label: str
    actions: frozenset[Action]


#: What every holder of a set keeps: find a patient and see who they are, look up codes, the
#: clinic's protocols (no PHI), their own account's apps and training acknowledgements.
BASE = frozenset({A.PATIENT_SEARCH, A.DEMOGRAPHICS_READ, A.CODES_SEARCH, A.SLOTS_SEARCH, A.PROTOCOL_READ,
                  A.SMART_AUTHORIZE_OWN, A.TRAINING_ACKNOWLEDGE, A.CARE_TEAM_DIRECTORY})


def _cap(key: str, label: str, *actions: Action) -> Capability:
    return Capability(key, label, frozenset(actions))


CAPABILITIES: tuple[Capability, ...] = (
    _cap("registration", "Register patients, keep their details and care teams, merge duplicates",
         A.PATIENT_REGISTER, A.DEMOGRAPHICS_WRITE, A.IDENTITY_REVIEW, A.EMERGENCY_READ, A.EMERGENCY_WRITE,
         A.CARE_TEAM_MANAGE, A.PATIENT_MERGE),
    _cap("scheduling", "Appointments and schedules",
         A.APPOINTMENT_READ, A.APPOINTMENT_WRITE, A.APPOINTMENT_ATTENDANCE, A.SCHEDULE_READ, A.SCHEDULE_OWN_READ,
         A.VIDEO_JOIN),
    _cap("documents", "Documents", A.ADMIN_DOC_READ, A.ADMIN_DOC_WRITE, A.CLINICAL_DOC_READ, A.CLINICAL_DOC_WRITE,
         A.DOCUMENT_PURGE),
    _cap("insurance", "Insurance and eligibility", A.INSURANCE_READ, A.INSURANCE_WRITE, A.COVERAGE_WRITE,
         A.ELIGIBILITY_CHECK),
    _cap("billing", "Billing: charges, claims, payments, remittance",
         A.BILLING_SETUP_READ, A.BILLING_ACCOUNT_READ, A.CHARGE_WRITE, A.CLAIM_WRITE, A.PAYMENT_RECORD,
         A.BILLING_WORKLIST, A.REMITTANCE_POST, A.STATEMENT_READ, A.CHARGE_OWN_READ),
    _cap("privacy", "Consents, sharing, disclosures and amendments",
         A.CONSENT_READ, A.CONSENT_RECORD, A.RECORD_SHARE, A.DISCLOSURE_READ, A.DISCLOSURE_RECORD, A.SENSITIVE_MARK,
         A.AMENDMENT_READ, A.AMENDMENT_DECIDE, A.AMENDMENT_WORKLIST),
    _cap("emergency", "Emergencies: directives, protocols, emergency access",
         A.EMERGENCY_INFO_WRITE, A.EMERGENCY_RUN_READ, A.EMERGENCY_RUN_WRITE, A.EMERGENCY_ACCESS_REQUEST,
         A.CODE_STATUS_WRITE, A.EMERGENCY_NOTIFY),
    _cap("clinical_read", "Read the clinical record",
         A.CLINICAL_READ, A.OBSERVATION_READ, A.VISIT_READ, A.VISIT_SUMMARY_READ, A.RESULT_READ,
         A.PRESCRIPTION_READ, A.TIMELINE_READ, A.CAREPLAN_READ),
    _cap("clinical_care", "Clinical care: notes, results, prescriptions, care plans",
         A.CLINICAL_WRITE, A.OBSERVATION_WRITE, A.OBSERVATION_VERIFY, A.VISIT_WRITE, A.VISIT_SIGN, A.VISIT_ADDENDUM,
         A.VISIT_WORKLIST, A.PATIENT_WORKLIST, A.PRESCRIPTION_WRITE, A.PRESCRIPTION_RENEWAL_DECIDE,
         A.PRESCRIPTION_WORKLIST, A.RESULT_WRITE, A.RESULT_RELEASE, A.RESULT_WORKLIST, A.CAREPLAN_WRITE),
    _cap("messages", "Secure messages: answer, triage and route",
         A.MESSAGE_READ, A.MESSAGE_WRITE, A.MESSAGE_POOL, A.MESSAGE_ROUTE, A.MESSAGE_INBOX, A.MESSAGE_DELEGATE),
    _cap("users", "Users, permissions and training", A.USER_MANAGE, A.TRAINING_MANAGE),
    _cap("oversight", "Audit log, reports and emergency-access review",
         A.AUDIT_READ, A.REPORTS, A.EMERGENCY_ACCESS_MANAGE),
    _cap("settings", "Clinic settings and system health",
         A.SYSTEM_CONFIGURE, A.SYSTEM_HEALTH_READ, A.SCHEDULING_CONFIGURE, A.BILLING_SETUP_WRITE, A.PROTOCOL_WRITE,
         A.SMART_APP_MANAGE),
)
BY_KEY = {c.key: c for c in CAPABILITIES}
#: Roles that may hold a permission set (a patient's account is theirs alone).
SET_ROLES = (Role.STAFF, Role.DOCTOR, Role.ADMIN)
#: A set of an admin always keeps user management: an administrator never locks everyone out.
REQUIRED = {Role.ADMIN: frozenset({"users"})}


def offered(role: Role) -> tuple[Capability, ...]:
    """The capabilities that mean something for `role` (some action within its ceiling)."""
    ceiling = PERMISSIONS.get(role, frozenset())
    return tuple(c for c in CAPABILITIES if c.actions & ceiling)


def effective(role: Role, keys) -> frozenset[Action]:
    """What a holder of a set of `role` with capabilities `keys` may do: BASE and the capabilities'
    actions, within the role's ceiling (unknown keys are ignored)."""
    granted = set(BASE)
    for key in keys or ():
        cap = BY_KEY.get(str(key))
        if cap is not None:
            granted |= cap.actions
    return frozenset(granted) & PERMISSIONS.get(role, frozenset())
