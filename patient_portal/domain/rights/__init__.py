"""HIPAA rights: the accounting of disclosures and amendment requests (issue 15)."""
