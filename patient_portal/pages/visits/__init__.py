"""The Visits pages: a chart's visit notes and the patient's own visit summaries."""
