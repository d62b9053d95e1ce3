"""A patient's emergency contacts."""
