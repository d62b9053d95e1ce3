"""Training and security awareness: policy documents roles must acknowledge, and who has not."""
