"""Patient Portal: a patient management service for clinics."""
