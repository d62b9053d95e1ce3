"""Prescriptions pages."""
