-- loses_rows.sql — UNSAFE: a data fix that deletes rows (backfilled raw signals) in an upgrade, without declaring
-- anything: base's rows are gone after the upgrade. Caught by "data kept".
-- release: 1.1.0
-- transaction: file
-- down: irreversible — the deleted rows are gone
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

DELETE FROM migration.raw_signals WHERE md5(id::text) < '8';

RESET statement_timeout;
RESET lock_timeout;
