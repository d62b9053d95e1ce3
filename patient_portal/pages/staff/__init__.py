"""Pages of the staff tree."""
