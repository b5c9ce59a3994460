-- adopt.sql — a database that holds the schemas but no sys.schema_upgrades: built by release 1.0.0 (or by
-- the head files run one by one). Recognised by its catalog fingerprint, never assumed: a match records where it
-- stands and the pending upgrades then run; anything else is refused (LB904) and nothing changes.
\ir fingerprint.sql
SELECT :'lb_fingerprint' IN (:'lb_fingerprint_1_0_0', :'lb_fingerprint_1_0_0_grant_block') AS lb_is_1_0_0,
       :'lb_fingerprint' = :'lb_fingerprint_head' AS lb_is_head
\gset
\if :lb_is_1_0_0
\echo 'leadboost-schema: adopting a database built by release 1.0.0'
BEGIN;
\ir version_table.sql
INSERT INTO sys.schema_upgrades (upgrade, release, checksum, how) VALUES ('1.0.0', '1.0.0', :'lb_fingerprint', 'adopted');
COMMIT;
\elif :lb_is_head
\echo 'leadboost-schema: adopting a database built from the head files'
BEGIN;
\ir version_table.sql
INSERT INTO sys.schema_upgrades (upgrade, release, checksum, how)
SELECT upgrade, release, checksum, 'adopted' FROM (VALUES :lb_history) AS h (upgrade, release, checksum)
WHERE upgrade IS NOT NULL;
COMMIT;
\else
\set lb_refusal_code LB904
SELECT format('this database holds leadboost schemas but matches no release (catalog fingerprint %s); '
              'nothing was changed', :'lb_fingerprint') AS lb_refusal
\gset
\ir refuse.sql
\endif
