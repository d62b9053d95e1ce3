"""Privacy pages."""
