"""Identity: user accounts, passwords, sign-in sessions, MFA and care-team assignment."""
