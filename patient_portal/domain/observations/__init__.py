"""Vital signs and home readings (issue 12): LOINC-coded, UCUM units, trends; enter through service.py."""
