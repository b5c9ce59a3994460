-- drops_column_base_reads_safe.sql — the same drop as the contract step of an expand/contract change: the clients
-- stopped reading description in an earlier release; the header says so and declares the values it discards.
-- release: 1.1.0
-- transaction: file
-- transforms: gobernanza.policies
-- down: irreversible — the dropped values are gone
-- breaking: contract — no release after 1.0.0 reads gobernanza.policies.description (expand step: clients stopped selecting it)
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE gobernanza.policies DROP COLUMN description;

RESET statement_timeout;
RESET lock_timeout;
