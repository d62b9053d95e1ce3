"""My patients: a clinician's care-team list with what waits for them (issue 12)."""
