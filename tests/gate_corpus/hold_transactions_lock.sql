-- hold_transactions_lock.sql — gate corpus (unsafe, under load): holds ACCESS EXCLUSIVE on finanzas.transactions for 1.5 s (the sleep stands for a long backfill): every posting waits.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

LOCK TABLE finanzas.transactions IN ACCESS EXCLUSIVE MODE;
SELECT pg_sleep(1.5);

RESET lock_timeout;
RESET statement_timeout;
