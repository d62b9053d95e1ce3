"""Infrastructure shared by every domain area: db, crypto, storage, access, audit, jobs.

Nothing under core/ imports reflex.
"""
