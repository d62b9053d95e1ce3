"""Appointment screens (issue 13): patient, front desk, doctor, admin and the reminder links."""
