"""Medical history rows (conditions, allergies, medications, family history, immunizations)."""
