"""The vitals pages: /chart/<id>/vitals (care team, admins) and /patient/readings (the patient)."""
