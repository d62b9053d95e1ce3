"""Insurance policies on file for a patient."""
