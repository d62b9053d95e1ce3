"""The FHIR R4 (4.0.1) REST API under ``/fhir``: served by the area services (policy and audit on
every call), never by reading tables. ``auth`` resolves the caller, ``scopes`` narrows what SMART
scopes allow, ``serialize`` turns the areas' DTOs into FHIR JSON, ``routes`` answers the interactions."""
