"""Patients: registration, profiles, search, review queues."""
