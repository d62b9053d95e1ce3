"""Code tables (ICD-10-CM, CVX, LOINC vital signs, the formulary): reference data, never PHI.

The front door is ``service.py``; ``sources.py`` reads what ships, ``loader.py`` writes it in bulk.
"""
