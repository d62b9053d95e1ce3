"""Prescriptions: prescribing from the formulary, the safety check, PDFs, verification, renewals."""
