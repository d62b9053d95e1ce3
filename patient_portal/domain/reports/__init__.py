"""Reports for administrators (issue 17): registrations, portal adoption, appointments and no-shows,
claims, denials, A/R aging, payments, patients by age band, access anomalies.

The front door is ``service`` (``open_reports``, ``export_csv``, ``export_pdf``): admins only,
every opening and export audited, every figure computed in SQL from plain columns, small counts
suppressed where a person could be recognised.
"""
