"""Break-the-glass pages."""
