"""Imports every table so SQLModel.metadata is complete (Alembic, tests, create-all)."""

from sqlmodel import SQLModel

from patient_portal.core import access, audit  # noqa: F401
from patient_portal.domain.identity import models as identity_models  # noqa: F401

metadata = SQLModel.metadata
