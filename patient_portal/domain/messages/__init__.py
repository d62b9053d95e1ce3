"""Secure messages (issue 18): patients write to their care team, the clinic answers; the triage pool."""
