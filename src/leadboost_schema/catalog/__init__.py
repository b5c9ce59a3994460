"""The schema as data: catalog snapshots and the committed contract, drift, query plans, hot queries and the source document's runbook."""
