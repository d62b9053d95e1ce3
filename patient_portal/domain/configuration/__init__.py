"""Configuration: the clinic's settings an admin keeps in the app (issue 17). The front door is
``service``; what every process reads is ``core.clinic_config.current()``."""
