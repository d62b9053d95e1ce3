"""Insurance, claims and billing (issue 14)."""
