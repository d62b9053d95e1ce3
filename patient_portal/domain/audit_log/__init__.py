"""Reading the audit trail: a patient's "who has looked at my record" and the administrators' audit log."""
