"""The care-plan pages (issue 12)."""
