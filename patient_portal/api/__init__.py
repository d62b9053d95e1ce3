"""HTTP API (FastAPI), mounted into the Reflex backend with api_transformer."""
