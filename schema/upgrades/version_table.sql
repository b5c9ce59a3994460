-- version_table.sql — sys.schema_upgrades, the record of which release and upgrades a database holds.
-- Plain SQL, idempotent; 000_master_migration.sql applies it on a fresh install and when it adopts a database
-- built before the table existed.
CREATE TABLE IF NOT EXISTS sys.schema_upgrades (
    upgrade    text        PRIMARY KEY,
    release    text        NOT NULL,
    checksum   text        NOT NULL,
    how        text        NOT NULL CHECK (how IN ('fresh', 'adopted', 'upgrade')),
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration   interval,
    applied_by text        NOT NULL DEFAULT current_user
);
COMMENT ON TABLE sys.schema_upgrades IS 'Schema history: one row for the release the database started from (upgrade = that release, e.g. 1.0.0) and one per upgrade file applied (schema/upgrades/NNNN_*.sql). Written only by 000_master_migration.sql.';
COMMENT ON COLUMN sys.schema_upgrades.upgrade IS 'Upgrade file name (NNNN_slug.sql), or the release a fresh or adopted database started from.';
COMMENT ON COLUMN sys.schema_upgrades.release IS 'Release the upgrade belongs to (its header''s release: line).';
COMMENT ON COLUMN sys.schema_upgrades.checksum IS 'sha256 of the upgrade file as applied (md5 catalog fingerprint for a release row): a released file edited later no longer matches, and migrate refuses.';
COMMENT ON COLUMN sys.schema_upgrades.how IS 'fresh (installed from the head files), adopted (recognised by its catalog fingerprint) or upgrade (the file ran).';
COMMENT ON COLUMN sys.schema_upgrades.applied_at IS 'When it was applied or recorded.';
COMMENT ON COLUMN sys.schema_upgrades.duration IS 'How long the upgrade file took (NULL for fresh and adopted rows).';
COMMENT ON COLUMN sys.schema_upgrades.applied_by IS 'Role that applied it.';
REVOKE ALL ON sys.schema_upgrades FROM PUBLIC;
-- The application may read which release it runs against (a backend can check it at start-up); only the
-- migration role writes.
GRANT SELECT ON sys.schema_upgrades TO leadboost_app;
