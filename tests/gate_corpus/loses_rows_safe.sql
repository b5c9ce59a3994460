-- loses_rows_safe.sql — the data fix done as a declared transform that keeps every row: the signals are marked
-- in their payload instead of deleted.
-- release: 1.1.0
-- transaction: file
-- transforms: migration.raw_signals
-- down: irreversible — the marks are not told apart from payload keys a source may have sent
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

UPDATE migration.raw_signals SET payload = payload || '{"superseded": true}' WHERE md5(id::text) < '8';

RESET statement_timeout;
RESET lock_timeout;
