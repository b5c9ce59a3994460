-- 001_schema_iam.sql — schema iam: tenants (the root of referential integrity), the application role
-- leadboost_app, and the tenant binding every other schema's row-level security and functions use.
--
-- Plain SQL, no psql meta-commands: runnable alone (psql -f, \i, or one execute from a driver).
-- Idempotent: every object is created IF NOT EXISTS / OR REPLACE or inside a guarded DO block.

-- Fail fast instead of queueing behind the application's locks (schema/README.md, "Lock and statement
-- timeouts"); reset at the end of the file.
SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- uuid-ossp where the server ships it, as the source document promises. Nothing here depends on it:
-- identifiers come from the built-in gen_random_uuid() (PostgreSQL 13+). When this file installs the
-- extension it marks it with a comment, so 999_rollback.sql removes only what the migration added.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'uuid-ossp')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'uuid-ossp') THEN
        CREATE EXTENSION "uuid-ossp";
        COMMENT ON EXTENSION "uuid-ossp" IS 'generate universally unique identifiers (UUIDs) — installed by leadboost-schema 001_schema_iam.sql';
    END IF;
END
$$;

-- The application role. Roles are cluster-wide: create it only when missing, and mark a role this file
-- created with a comment so the rollback never drops a role someone else made.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'leadboost_app') THEN
        BEGIN
            CREATE ROLE leadboost_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
            COMMENT ON ROLE leadboost_app IS 'LeadBoost application role (least privilege) — created by leadboost-schema 001_schema_iam.sql';
        EXCEPTION
            -- Another database of the same cluster created it at the same moment.
            WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS iam;
COMMENT ON SCHEMA iam IS 'Identity & access: tenants, the root of referential integrity, and the per-session tenant binding.';

CREATE TABLE IF NOT EXISTS iam.tenants (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    name       text        NOT NULL,
    status     text        NOT NULL DEFAULT 'ACTIVE',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_name_key UNIQUE (name),
    CONSTRAINT tenants_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 200 AND name = btrim(name)),
    CONSTRAINT tenants_status_check CHECK (status IN ('ACTIVE', 'SUSPENDED', 'CLOSED'))
);
COMMENT ON TABLE iam.tenants IS 'One row per customer organisation. Every tenant-owned row in every schema references it ON DELETE RESTRICT: a tenant with data cannot be deleted.';
COMMENT ON COLUMN iam.tenants.id IS 'Tenant identifier (gen_random_uuid()); the value sessions bind with SET app.tenant_id.';
COMMENT ON COLUMN iam.tenants.name IS 'Unique display name, 1–200 characters, no surrounding blanks.';
COMMENT ON COLUMN iam.tenants.status IS 'ACTIVE tenants may write; SUSPENDED and CLOSED tenants are refused by every writing function (LB004).';
COMMENT ON COLUMN iam.tenants.created_at IS 'When the tenant was created.';

-- The session's tenant binding. No SET clause: policies call it once per query as (SELECT iam.current_tenant_id()).
CREATE OR REPLACE FUNCTION iam.current_tenant_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
AS $$
DECLARE
    bound text := NULLIF(pg_catalog.current_setting('app.tenant_id', true), '');
    hex_uuid constant text := '[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}';
BEGIN
    IF bound IS NULL THEN
        RETURN NULL;
    END IF;
    -- The usual binding, a uuid in its canonical spelling (32 hex digits, hyphens at 9, 14, 19 and 24), is
    -- recognised without the pattern: the regex match costs more than the rest of a primary-key SELECT's row-level
    -- security (issue 14).
    IF pg_catalog.length(bound) OPERATOR(pg_catalog.=) 36
       AND pg_catalog.translate(bound, '0123456789abcdefABCDEF', '') OPERATOR(pg_catalog.=) '----'
       AND (pg_catalog.substr(bound, 9, 1) OPERATOR(pg_catalog.||) pg_catalog.substr(bound, 14, 1)
            OPERATOR(pg_catalog.||) pg_catalog.substr(bound, 19, 1) OPERATOR(pg_catalog.||) pg_catalog.substr(bound, 24, 1))
           OPERATOR(pg_catalog.=) '----' THEN
        RETURN bound::uuid;
    END IF;
    -- Checked by pattern, not by catching the cast: an EXCEPTION block would open a subtransaction per call.
    -- Braces come in pairs ('{…}' or none): the cast would refuse '{<uuid>' with 22P02. No backslash in the
    -- pattern, so it means the same under standard_conforming_strings = off.
    IF bound !~ ('^([{]' || hex_uuid || '[}]|' || hex_uuid || ')$') THEN
        RAISE EXCEPTION USING ERRCODE = 'LB003',
            MESSAGE = pg_catalog.format('app.tenant_id is not a valid uuid: %L', bound),
            HINT = 'SET app.tenant_id = ''<tenant uuid>'' (or RESET app.tenant_id) before using the schema.';
    END IF;
    RETURN bound::uuid;
END
$$;
COMMENT ON FUNCTION iam.current_tenant_id() IS 'The tenant this session is bound to (setting app.tenant_id), or NULL when unbound. Row-level security on every tenant table compares tenant_id with it. A malformed setting raises LB003.';

-- The four argument/tenant checks below are internal (no EXECUTE for PUBLIC) and called only from functions that pin
-- search_path themselves, so they inherit that path: a SET clause of their own would cost a configuration
-- save/restore on every call of every public function (measured: event append 551 -> 426 µs on PostgreSQL 15).
-- Whether the role that called into the schema (the outer role, even from inside a SECURITY DEFINER
-- function: SET ROLE is visible through the "role" setting) may act without a tenant binding.
CREATE OR REPLACE FUNCTION iam.calling_role_is_unrestricted()
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    unrestricted boolean;
BEGIN
    -- A superuser is answered from a setting (no catalog query): is_superuser follows SET ROLE and SET SESSION
    -- AUTHORIZATION but not SECURITY DEFINER, so it is the calling role's. PL/pgSQL rather than SQL: it keeps
    -- the query's plan for the session (a SQL function called from PL/pgSQL was planned again on every call,
    -- ~150 µs).
    IF pg_catalog.current_setting('is_superuser') = 'on' THEN
        RETURN true;
    END IF;
    SELECT r.rolbypassrls OR pg_catalog.pg_has_role(r.oid, n.nspowner, 'USAGE')
      INTO unrestricted
      FROM pg_catalog.pg_roles AS r
     CROSS JOIN pg_catalog.pg_namespace AS n
     WHERE n.nspname = 'iam'
       AND r.rolname = CASE WHEN pg_catalog.current_setting('role') = 'none' THEN session_user::text
                            ELSE pg_catalog.current_setting('role') END;
    RETURN coalesce(unrestricted, false);
END
$$;
COMMENT ON FUNCTION iam.calling_role_is_unrestricted() IS 'True when the calling role (the SET ROLE role, else the session user) is a superuser, has BYPASSRLS, or has the privileges of the schema owner — the roles row-level security does not restrict either.';

-- Every writing function starts here: the tenant exists, is ACTIVE (when asked), and the session may act for it.
CREATE OR REPLACE FUNCTION iam.assert_tenant_access(p_tenant_id uuid, p_require_active boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    bound uuid;
    tenant_status text;
BEGIN
    IF p_tenant_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_tenant_id must not be NULL';
    END IF;
    bound := iam.current_tenant_id();  -- after the NULL check: a malformed binding (LB003) comes second
    IF bound IS NOT NULL AND bound <> p_tenant_id THEN
        RAISE EXCEPTION USING ERRCODE = 'LB003',
            MESSAGE = format('session is bound to tenant %s and cannot act for tenant %s', bound, p_tenant_id);
    END IF;
    IF bound IS NULL AND NOT iam.calling_role_is_unrestricted() THEN
        RAISE EXCEPTION USING ERRCODE = 'LB003',
            MESSAGE = 'session is not bound to a tenant',
            HINT = 'SET app.tenant_id = ''<tenant uuid>'' first.';
    END IF;
    SELECT t.status INTO tenant_status FROM iam.tenants AS t WHERE t.id = p_tenant_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'LB002', MESSAGE = format('unknown tenant %s', p_tenant_id);
    END IF;
    IF p_require_active AND tenant_status <> 'ACTIVE' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB004',
            MESSAGE = format('tenant %s is %s, not ACTIVE', p_tenant_id, tenant_status);
    END IF;
END
$$;
COMMENT ON FUNCTION iam.assert_tenant_access(uuid, boolean) IS 'Raises LB001 (NULL tenant), LB003 (session bound to another tenant, or a restricted role with no binding), LB002 (unknown tenant) or LB004 (tenant not ACTIVE, when p_require_active). Called first by every public function.';

-- Time arguments (p_now): tests drive leases, windows and expiry through them, but the application must not move
-- time (it could skip a kill switch, spend a daily cap again, or take over a live lease). A chosen clock is
-- honoured only for an unrestricted calling role; a restricted one may pass only now() — what the default gives.
-- Finite and within 1970–9999 for everyone: infinity or a far-future time would block a key or a breaker for ever
-- and overflow the interval arithmetic (22008).
CREATE OR REPLACE FUNCTION iam.assert_clock_argument(p_now timestamptz)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF p_now IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_now must not be NULL';
    END IF;
    IF NOT isfinite(p_now) OR p_now < '1970-01-01 00:00:00+00' OR p_now >= '10000-01-01 00:00:00+00' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB008',
            MESSAGE = format('p_now must be a finite time from 1970-01-01 to 9999-12-31, got %s', p_now);
    END IF;
    IF p_now <> now() AND NOT iam.calling_role_is_unrestricted() THEN
        RAISE EXCEPTION USING ERRCODE = 'LB007',
            MESSAGE = format('p_now is the real clock for role %s: leave it out (or pass now()), got %s',
                             CASE WHEN current_setting('role') = 'none' THEN session_user::text
                                  ELSE current_setting('role') END, p_now),
            HINT = 'Only the schema owner (or a superuser) may choose the time, e.g. in tests.';
    END IF;
END
$$;
COMMENT ON FUNCTION iam.assert_clock_argument(timestamptz) IS 'Raises LB001 when p_now is NULL, LB008 when it is not a finite time from 1970-01-01 to 9999-12-31, and LB007 when a restricted calling role passes anything but now(): only unrestricted roles choose the clock.';

-- Row triggers that read other rows before deciding (event versions, snapshot folds) call this first, so a
-- restricted session writing directly learns nothing about a tenant it is not bound to: the same refusal (LB003)
-- whether the other tenant's stream exists or not. Through the public functions the binding was checked already.
CREATE OR REPLACE FUNCTION iam.assert_row_tenant(p_tenant_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    bound uuid := iam.current_tenant_id();
BEGIN
    IF bound IS NOT DISTINCT FROM p_tenant_id OR iam.calling_role_is_unrestricted() THEN
        RETURN;
    END IF;
    IF bound IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB003', MESSAGE = 'session is not bound to a tenant',
            HINT = 'SET app.tenant_id = ''<tenant uuid>'' first.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LB003',
        MESSAGE = format('session is bound to tenant %s and cannot write rows of tenant %s', bound, p_tenant_id);
END
$$;
COMMENT ON FUNCTION iam.assert_row_tenant(uuid) IS 'Raises LB003 unless the row''s tenant is the session''s binding or the calling role is unrestricted. Called first by row triggers that read other rows.';

-- Common refusal for text arguments outside their documented bounds.
CREATE OR REPLACE FUNCTION iam.assert_text_argument(
    p_name text,
    p_value text,
    p_max_length integer,
    p_pattern text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_value IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = format('%s must not be NULL', p_name);
    END IF;
    IF length(p_value) = 0 OR length(p_value) > p_max_length THEN
        RAISE EXCEPTION USING ERRCODE = 'LB005',
            MESSAGE = format('%s must be 1 to %s characters long, got %s', p_name, p_max_length, length(p_value));
    END IF;
    IF p_pattern IS NOT NULL AND p_value !~ p_pattern THEN
        RAISE EXCEPTION USING ERRCODE = 'LB005',
            MESSAGE = format('%s does not match %s: %L', p_name, p_pattern, left(p_value, 200));
    END IF;
END
$$;
COMMENT ON FUNCTION iam.assert_text_argument(text, text, integer, text) IS 'Raises LB001 when the value is NULL and LB005 when it is empty, longer than p_max_length or does not match p_pattern.';

-- Append-only tables (the ledger, the event store, snapshots) share this refusal: one statement-level trigger per
-- table refuses UPDATE, DELETE and TRUNCATE, even of zero rows, even through INSERT … ON CONFLICT DO UPDATE or
-- MERGE, and even with session_replication_role = replica (the triggers are ENABLE ALWAYS). The trigger's one
-- argument is the hint: how to correct such a table instead.
CREATE OR REPLACE FUNCTION iam.refuse_append_only_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'LB901',
        MESSAGE = format('%I.%I is append-only: %s is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP),
        HINT = TG_ARGV[0];
END
$$;
COMMENT ON FUNCTION iam.refuse_append_only_change() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of an append-only table with LB901; the trigger argument is the hint.';

-- Common refusal for JSON arguments: NULL, or larger than 1 MiB of text.
CREATE OR REPLACE FUNCTION iam.assert_json_argument(p_name text, p_value jsonb)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_value IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = format('%s must not be NULL', p_name);
    END IF;
    IF octet_length(p_value::text) > 1048576 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB006',
            MESSAGE = format('%s is %s bytes of JSON: at most 1 MiB is accepted', p_name, octet_length(p_value::text));
    END IF;
END
$$;
COMMENT ON FUNCTION iam.assert_json_argument(text, jsonb) IS 'Raises LB001 when the value is NULL and LB006 when its JSON text is larger than 1 MiB.';

-- The application role never keeps UPDATE, DELETE or TRUNCATE on a table of the application's schemas: any of
-- them also lets it LOCK a table every tenant shares IN ACCESS EXCLUSIVE MODE and stop them all. Nor does it keep
-- INSERT where rows carry states only the functions may reach (tenants and their status, policies and their
-- counters, idempotency keys, sagas and their steps). These files never grant them; the event trigger below takes
-- them back after every GRANT, so the source document's troubleshooting block (GRANT SELECT, INSERT, UPDATE ON
-- ALL TABLES …) keeps every guarantee. Names are spliced with %I only (no other dynamic SQL in the schema).
CREATE OR REPLACE FUNCTION iam.revoke_app_write_privileges()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target record;
BEGIN
    FOR target IN
        SELECT n.nspname, c.relname,
               (n.nspname, c.relname) IN (('iam', 'tenants'), ('gobernanza', 'policies'), ('sys', 'request_keys'),
                                          ('sys', 'sagas'), ('sys', 'saga_steps'),
                                          ('finanzas', 'account_balance_shards'),
                                          ('sys', 'schema_upgrades')) AS function_only
          FROM pg_class AS c
          JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events')
           AND c.relkind IN ('r', 'p')
         ORDER BY 1, 2
    LOOP
        IF has_table_privilege('leadboost_app', format('%I.%I', target.nspname, target.relname),
                               'UPDATE, DELETE, TRUNCATE') THEN
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON TABLE %I.%I FROM leadboost_app',
                           target.nspname, target.relname);
        END IF;
        IF target.function_only
           AND has_table_privilege('leadboost_app', format('%I.%I', target.nspname, target.relname), 'INSERT') THEN
            EXECUTE format('REVOKE INSERT ON TABLE %I.%I FROM leadboost_app', target.nspname, target.relname);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION iam.revoke_app_write_privileges() IS 'Takes back from leadboost_app UPDATE, DELETE and TRUNCATE on every table of the application schemas (each would let it LOCK a shared table IN ACCESS EXCLUSIVE MODE) and INSERT on the tables only functions, triggers or the migrator write (iam.tenants, gobernanza.policies, sys.request_keys, sys.sagas, sys.saga_steps, finanzas.account_balance_shards, sys.schema_upgrades).';

CREATE OR REPLACE FUNCTION iam.withhold_app_write_privileges()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM iam.revoke_app_write_privileges();
END
$$;
COMMENT ON FUNCTION iam.withhold_app_write_privileges() IS 'Event trigger (after every GRANT): iam.revoke_app_write_privileges().';

-- Event triggers can only be created by a superuser: an install by another role goes without it (a NOTICE says
-- so), and then a later GRANT of UPDATE to leadboost_app is not taken back (schema/README.md).
DO $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) THEN
        DROP EVENT TRIGGER IF EXISTS leadboost_withhold_app_write_privileges;
        CREATE EVENT TRIGGER leadboost_withhold_app_write_privileges ON ddl_command_end
            WHEN TAG IN ('GRANT')
            EXECUTE FUNCTION iam.withhold_app_write_privileges();
        COMMENT ON EVENT TRIGGER leadboost_withhold_app_write_privileges IS 'After every GRANT: leadboost_app keeps no UPDATE, DELETE or TRUNCATE in the application schemas, and no INSERT on the tables only functions write (iam.revoke_app_write_privileges).';
    ELSE
        RAISE NOTICE 'not a superuser: event trigger leadboost_withhold_app_write_privileges not created; a GRANT of UPDATE/DELETE/TRUNCATE to leadboost_app will not be taken back';
    END IF;
END
$$;

ALTER TABLE iam.tenants ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON iam.tenants;
CREATE POLICY tenant_isolation ON iam.tenants
    USING (id = (SELECT iam.current_tenant_id()))
    WITH CHECK (id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON iam.tenants IS 'A role subject to RLS (leadboost_app) sees only the tenant its session is bound to (app.tenant_id); unbound, it sees none.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA iam FROM PUBLIC;
GRANT USAGE ON SCHEMA iam TO leadboost_app;
GRANT SELECT ON iam.tenants TO leadboost_app;
GRANT EXECUTE ON FUNCTION iam.current_tenant_id() TO leadboost_app;

RESET statement_timeout;
RESET lock_timeout;
