"""Visits: visit notes, their signing and addenda (issue 12). The front door is ``service``."""
