"""Pages anyone can open: landing, sign-in, self-registration."""
