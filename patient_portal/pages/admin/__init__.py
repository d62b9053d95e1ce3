"""Pages of the admin tree."""
