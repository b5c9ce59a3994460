-- baseline.sql — release 1.0.0 (schema/ at commit 9e73ed3), the release production databases were built with
-- before the version table existed. upgrades/fingerprint.sql gives one of these two values on such a database
-- (PostgreSQL 15 to 18): as built, or after the source document's troubleshooting GRANT block. Immutable.
\set lb_fingerprint_1_0_0 4a2e6395dd6e65d5b0335851788f7aba
\set lb_fingerprint_1_0_0_grant_block df424288149559b224a88d36a3a92e8e
