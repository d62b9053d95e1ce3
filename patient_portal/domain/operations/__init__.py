"""Operations: troubleshooting checks, system health, metrics. The front door is ``service``."""
