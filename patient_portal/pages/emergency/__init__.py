"""The emergency screens (issue 15 part A)."""
