"""Imports every table so SQLModel.metadata is complete (Alembic, tests, create-all)."""

from sqlmodel import SQLModel

from patient_portal.core import access, access_facts, audit, clinic_config, jobs  # noqa: F401
from patient_portal.domain.appointments import models as appointment_models  # noqa: F401
from patient_portal.domain.billing import models as billing_models  # noqa: F401
from patient_portal.domain.careplans import models as careplan_models  # noqa: F401
from patient_portal.domain.codes import models as code_models  # noqa: F401
from patient_portal.domain.documents import models as document_models  # noqa: F401
from patient_portal.domain.emergency import models as emergency_models  # noqa: F401
from patient_portal.domain.fhir import models as fhir_models  # noqa: F401
from patient_portal.domain.history import models as history_models  # noqa: F401
from patient_portal.domain.identity import models as identity_models  # noqa: F401
from patient_portal.domain.insurance import models as insurance_models  # noqa: F401
from patient_portal.domain.messages import models as message_models  # noqa: F401
from patient_portal.domain.observations import models as observation_models  # noqa: F401
from patient_portal.domain.patients import link_models  # noqa: F401
from patient_portal.domain.patients import models as patient_models  # noqa: F401
from patient_portal.domain.prescriptions import models as prescription_models  # noqa: F401
from patient_portal.domain.push import models as push_models  # noqa: F401
from patient_portal.domain.results import models as result_models  # noqa: F401
from patient_portal.domain.rights import models as rights_models  # noqa: F401
from patient_portal.domain.sensitive import models as sensitive_models  # noqa: F401
from patient_portal.domain.smart import models as smart_models  # noqa: F401
from patient_portal.domain.training import models as training_models  # noqa: F401
from patient_portal.domain.visits import models as visit_models  # noqa: F401

metadata = SQLModel.metadata
