"""Consents per purpose, versioned, enforced by the policy point (issue 15)."""
