"""Break-the-glass emergency access (issue 15)."""
