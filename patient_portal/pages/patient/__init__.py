"""Pages of the patient tree."""
