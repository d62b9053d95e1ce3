"""SMART App Launch 2.x: the portal as the authorization server for outside apps (issue 16 part B)."""
