"""Pages every signed-in user has: profile and sign-in security."""
