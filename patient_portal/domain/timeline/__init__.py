"""The timeline: every clinical event of one patient, newest first (issue 12)."""
