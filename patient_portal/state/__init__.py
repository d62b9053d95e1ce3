"""Reflex State classes: session.py (who is signed in) plus one module per area.

Every public method here is callable from any browser: each handler that touches data resolves
the actor on the server and calls a domain service (which asks core.access).
"""
