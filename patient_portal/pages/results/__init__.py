"""Lab results pages."""
