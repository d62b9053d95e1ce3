"""Page modules; importing this package registers every page with the app."""

from patient_portal.pages.account import apps as account_apps  # noqa: F401
from patient_portal.pages.account import profile, security  # noqa: F401
from patient_portal.pages.account import training as account_training  # noqa: F401
from patient_portal.pages.admin import apps as admin_apps  # noqa: F401
from patient_portal.pages.admin import audit as admin_audit  # noqa: F401
from patient_portal.pages.admin import care_teams as admin_care_teams  # noqa: F401
from patient_portal.pages.admin import dashboard as admin_dashboard  # noqa: F401
from patient_portal.pages.admin import emails as admin_emails  # noqa: F401
from patient_portal.pages.admin import health as admin_health  # noqa: F401
from patient_portal.pages.admin import merge as admin_merge  # noqa: F401
from patient_portal.pages.admin import permissions as admin_permissions  # noqa: F401
from patient_portal.pages.admin import quality as admin_quality  # noqa: F401
from patient_portal.pages.admin import reports as admin_reports  # noqa: F401
from patient_portal.pages.admin import retention as admin_retention  # noqa: F401
from patient_portal.pages.admin import settings as admin_settings  # noqa: F401
from patient_portal.pages.admin import training as admin_training  # noqa: F401
from patient_portal.pages.admin import users as admin_users  # noqa: F401
from patient_portal.pages.appointments import admin as appointment_settings  # noqa: F401
from patient_portal.pages.appointments import doctor as doctor_schedule  # noqa: F401
from patient_portal.pages.appointments import patient as patient_appointments  # noqa: F401
from patient_portal.pages.appointments import respond as appointment_links  # noqa: F401
from patient_portal.pages.appointments import staff as staff_appointments  # noqa: F401
from patient_portal.pages.billing import account as billing_account  # noqa: F401
from patient_portal.pages.billing import office as billing_office  # noqa: F401
from patient_portal.pages.billing import patient as billing_patient  # noqa: F401
from patient_portal.pages.billing import setup as billing_setup  # noqa: F401
from patient_portal.pages.breakglass import pages as breakglass_pages  # noqa: F401
from patient_portal.pages.careplans import pages as careplan_pages  # noqa: F401
from patient_portal.pages.doctor import dashboard as doctor_dashboard  # noqa: F401
from patient_portal.pages.documents import pages as document_pages  # noqa: F401
from patient_portal.pages.emergency import pages as emergency_pages  # noqa: F401
from patient_portal.pages.messages import pages as message_pages  # noqa: F401
from patient_portal.pages.patient import access_log as patient_access_log  # noqa: F401
from patient_portal.pages.patient import dashboard as patient_dashboard  # noqa: F401
from patient_portal.pages.patients import chart, record, register, review, search, signup  # noqa: F401
from patient_portal.pages.prescriptions import pages as prescription_pages  # noqa: F401
from patient_portal.pages.privacy import pages as privacy_pages  # noqa: F401
from patient_portal.pages.public import email_links, landing, login  # noqa: F401
from patient_portal.pages.results import pages as result_pages  # noqa: F401
from patient_portal.pages.staff import dashboard as staff_dashboard  # noqa: F401
from patient_portal.pages.timeline import pages as timeline_pages  # noqa: F401
from patient_portal.pages.video import pages as video_pages  # noqa: F401
from patient_portal.pages.visits import pages as visit_pages  # noqa: F401
from patient_portal.pages.vitals import pages as vital_pages  # noqa: F401
