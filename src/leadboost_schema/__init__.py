"""LeadBoost AI PostgreSQL schema (RFC-PHOENIX-01): server, migrations, fixtures and proofs."""
