"""Domain areas: one package each, with models.py (tables + DTOs) and service.py (use cases)."""
