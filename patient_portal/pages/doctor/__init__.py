"""Pages of the doctor tree."""
