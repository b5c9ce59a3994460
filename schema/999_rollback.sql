-- 999_rollback.sql — removes everything 000_master_migration.sql created (emergencies only: data is lost).
--
-- The seven schemas go with all their tables, views, functions, triggers, policies and grants.
-- Cluster-wide and shared objects are removed only when this migration made them and nothing else needs them:
--   * role leadboost_app: dropped only if 001 created it (its comment says so) and no other database of the
--     cluster still grants it anything; otherwise kept, with a NOTICE.
--   * extension uuid-ossp: dropped only if 001 installed it (its comment says so) and no object depends on it.
-- Plain SQL; running it twice is harmless.

-- Fail fast instead of queueing behind the application's locks (schema/README.md, "Lock and statement timeouts");
-- reset at the end of the file.
SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- One schema a statement (CASCADE takes their tables, views, functions, triggers and policies). psql commits
-- each on its own: if one fails (a lock timeout), the others are gone and running the file again finishes.
-- The event trigger of 001 (database-wide, not in a schema; DROP SCHEMA iam CASCADE would take it too). Only a
-- superuser can have made it; the DO block keeps the file plain SQL that every parser reads.
DO $$
BEGIN
    DROP EVENT TRIGGER IF EXISTS leadboost_withhold_app_write_privileges;
END
$$;
DROP SCHEMA IF EXISTS migration CASCADE;
DROP SCHEMA IF EXISTS events CASCADE;
DROP SCHEMA IF EXISTS sys CASCADE;
DROP SCHEMA IF EXISTS gobernanza CASCADE;
DROP SCHEMA IF EXISTS stock CASCADE;
DROP SCHEMA IF EXISTS finanzas CASCADE;
DROP SCHEMA IF EXISTS iam CASCADE;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension AS e
                WHERE e.extname = 'uuid-ossp'
                  AND obj_description(e.oid, 'pg_extension') LIKE '%installed by leadboost-schema%') THEN
        BEGIN
            DROP EXTENSION "uuid-ossp" RESTRICT;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'extension uuid-ossp kept: other objects depend on it';
        END;
    END IF;
END
$$;

DO $$
DECLARE
    app_role oid;
BEGIN
    SELECT r.oid INTO app_role FROM pg_catalog.pg_roles AS r
     WHERE r.rolname = 'leadboost_app'
       AND shobj_description(r.oid, 'pg_authid') LIKE '%created by leadboost-schema%';
    IF app_role IS NULL THEN
        RETURN;
    END IF;
    -- Privileges granted to it in any database of the cluster are recorded in the shared pg_shdepend.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_shdepend AS d
                WHERE d.refclassid = 'pg_catalog.pg_authid'::regclass AND d.refobjid = app_role) THEN
        RAISE NOTICE 'role leadboost_app kept: other databases of this cluster still use it';
        RETURN;
    END IF;
    BEGIN
        DROP ROLE leadboost_app;
    EXCEPTION
        -- Someone started using it since the check above (internal_error: a database that held privileges
        -- was being dropped at that moment; DROP ROLE looked it up).
        WHEN dependent_objects_still_exist OR object_in_use OR internal_error THEN
            RAISE NOTICE 'role leadboost_app kept: other databases of this cluster still use it';
    END;
END
$$;

RESET statement_timeout;
RESET lock_timeout;
