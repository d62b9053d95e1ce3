"""Capabilities, the fixed list permission sets are made of: they cover every staff role's actions,
all of them together are the full role, and no set ever grants beyond the role's ceiling."""

from __future__ import annotations

import pytest

from patient_portal.core import capabilities as caps
from patient_portal.core.access import PERMISSIONS, Action, Role


@pytest.mark.parametrize("role", caps.SET_ROLES)
def test_every_action_of_the_role_belongs_to_a_capability(role):
    covered = set(caps.BASE).union(*(c.actions for c in caps.CAPABILITIES))
    missing = sorted(str(a) for a in PERMISSIONS[role] - covered)
    assert not missing, f"put these actions in a capability of core/capabilities.py: {missing}"


@pytest.mark.parametrize("role", caps.SET_ROLES)
def test_every_capability_offered_is_the_full_role(role):
    assert caps.effective(role, [c.key for c in caps.offered(role)]) == PERMISSIONS[role]


@pytest.mark.parametrize("role", caps.SET_ROLES)
def test_a_set_never_exceeds_the_role(role):
    everything = caps.effective(role, list(caps.BY_KEY))
    assert everything <= PERMISSIONS[role]
    assert caps.effective(role, ["no-such-capability"]) == caps.BASE & PERMISSIONS[role]


def test_staff_are_not_offered_clinical_care_and_front_desk_is_not_billing():
    assert "clinical_care" not in {c.key for c in caps.offered(Role.STAFF)}
    front_desk = caps.effective(Role.STAFF, ["registration", "scheduling", "documents", "insurance"])
    assert Action.PATIENT_REGISTER in front_desk and Action.CLAIM_WRITE not in front_desk
    billing = caps.effective(Role.STAFF, ["insurance", "billing"])
    assert Action.CLAIM_WRITE in billing and Action.PATIENT_REGISTER not in billing
    assert Action.CLINICAL_WRITE not in caps.effective(Role.STAFF, ["clinical_care", "clinical_read"])
