"""Secure messages pages (issue 18)."""
