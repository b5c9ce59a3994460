"""Schema contract tests: the catalog, the source document's queries, immutability, idempotency, error codes."""
