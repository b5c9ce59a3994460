-- loses_rows_declared.sql — UNSAFE even though it declares the table in transforms: a transform rewrites or
-- fills rows, it does not delete them. Caught by "data kept" (the table shrinks).
-- release: 1.1.0
-- transaction: file
-- transforms: migration.raw_signals
-- down: irreversible — the deleted rows are gone
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

DELETE FROM migration.raw_signals WHERE md5(id::text) < '8';

RESET statement_timeout;
RESET lock_timeout;
