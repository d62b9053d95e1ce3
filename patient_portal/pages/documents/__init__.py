"""Documents pages: the patient's own (/patient/documents) and a chart's (/chart/<id>/documents)."""
