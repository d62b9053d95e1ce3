"""FHIR bulk export jobs (the table; the API in ``api/fhir/bulk.py`` runs and serves them)."""
