-- drops_column_base_reads.sql — UNSAFE: drops gobernanza.policies.description, a column leadboost_app reads in
-- base (SELECT granted on the table): every base client that selects it gets 42703. Caught by "old clients".
-- release: 1.1.0
-- transaction: file
-- down: irreversible — the dropped values are gone
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE gobernanza.policies DROP COLUMN description;

RESET statement_timeout;
RESET lock_timeout;
