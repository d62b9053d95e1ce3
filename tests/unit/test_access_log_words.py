"""The patient's access log reads as plain sentences for every action, refused ones too
(``domain/audit_log/dto.py``): "Tried to <verb> … (refused)" needs each phrase's verb in its base form."""

from __future__ import annotations

import pytest

from patient_portal.domain.audit_log.dto import _BASE_VERBS, PHRASES, phrase

#: phrases whose first word names someone else, not what was done: a refusal is said after them
NOT_A_VERB = {"A"}


def test_every_phrase_starts_with_a_verb_whose_base_form_is_known():
    unknown = sorted({text.split(" ", 1)[0] for text in PHRASES.values()} - set(_BASE_VERBS) - NOT_A_VERB)
    assert not unknown, f"add these verbs' base forms to _BASE_VERBS: {unknown}"


@pytest.mark.parametrize("action", sorted(PHRASES))
def test_a_refused_action_reads_as_a_sentence(action):
    said = phrase(action, outcome="denied")
    assert said.endswith("(refused)")
    first = PHRASES[action].split(" ", 1)[0]
    if first not in NOT_A_VERB:
        assert said.startswith(f"Tried to {_BASE_VERBS[first]} "), said


def test_examples():
    assert phrase("message.route", outcome="denied") == "Tried to pass one of your messages to the right person (refused)"
    assert phrase("prescription.verify.read", outcome="failed") == (
        "A pharmacy checked that your prescription is valid (it did not work)")
