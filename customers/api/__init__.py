"""The customer REST API (v1): search and the 360 summary, scoped and masked."""
