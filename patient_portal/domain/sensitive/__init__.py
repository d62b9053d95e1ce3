"""Sensitive records: conditions, documents and visit notes only their own clinicians see (issue 15)."""
