-- 007_schema_migration.sql — schema migration: landing tables of the Firebase → PostgreSQL backfill (phase B).
--
-- Every table carries firebase_id, UNIQUE per table: the backfill's idempotency key, so a batch re-run with
-- INSERT … ON CONFLICT (firebase_id) DO NOTHING adds nothing twice. batch_control tracks each batch.
-- validate_migrated_data() reports one row per consistency check with status OK, WARN or FAIL.
-- The application role gets nothing here: the ETL runs as the migration owner. Requires 001. Plain SQL, idempotent.

-- Fail fast instead of queueing behind the application's locks (schema/README.md, "Lock and statement
-- timeouts"); reset at the end of the file.
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE SCHEMA IF NOT EXISTS migration;
COMMENT ON SCHEMA migration IS 'Firebase backfill targets (firebase_id = idempotency key) and batch control.';

CREATE TABLE IF NOT EXISTS migration.batch_control (
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id       uuid        NOT NULL,
    firebase_id     text        NOT NULL,
    collection      text        NOT NULL,
    phase           text        NOT NULL DEFAULT 'B_BACKFILL',
    status          text        NOT NULL DEFAULT 'PENDING',
    expected_count  integer,
    processed_count integer     NOT NULL DEFAULT 0,
    resume_cursor   text,
    error           text,
    started_at      timestamptz,
    finished_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT batch_control_pkey PRIMARY KEY (id),
    CONSTRAINT batch_control_firebase_id_key UNIQUE (firebase_id),
    CONSTRAINT batch_control_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT batch_control_firebase_id_check
        CHECK (octet_length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0),
    CONSTRAINT batch_control_collection_check CHECK (collection IN ('raw_signals', 'campaigns', 'audit_logs')),
    CONSTRAINT batch_control_phase_check
        CHECK (phase IN ('A_DUAL_WRITE', 'B_BACKFILL', 'C_READ_THROUGH', 'D_KILL_SWITCH')),
    CONSTRAINT batch_control_status_check CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')),
    CONSTRAINT batch_control_expected_count_check CHECK (expected_count >= 0),
    CONSTRAINT batch_control_processed_count_check CHECK (processed_count >= 0),
    CONSTRAINT batch_control_resume_cursor_check CHECK (length(resume_cursor) BETWEEN 1 AND 1500),
    CONSTRAINT batch_control_error_check CHECK (length(error) BETWEEN 1 AND 2000),
    CONSTRAINT batch_control_finished_check CHECK ((status IN ('COMPLETED', 'FAILED')) = (finished_at IS NOT NULL)),
    CONSTRAINT batch_control_started_check CHECK (status = 'PENDING' OR started_at IS NOT NULL),
    CONSTRAINT batch_control_order_check CHECK (finished_at >= started_at)
);
COMMENT ON TABLE migration.batch_control IS 'One row per backfill batch: which tenant and Firebase collection, its phase, progress and outcome.';
COMMENT ON COLUMN migration.batch_control.id IS 'Batch identifier, referenced by the rows it loaded.';
COMMENT ON COLUMN migration.batch_control.tenant_id IS 'Tenant whose data the batch loads (FK iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN migration.batch_control.firebase_id IS 'ETL run/batch id on the Firebase side; unique (idempotency key), 1–1500 bytes (Firestore''s own limit, below the unique index''s 2704) without /.';
COMMENT ON COLUMN migration.batch_control.collection IS 'Target collection: raw_signals, campaigns or audit_logs.';
COMMENT ON COLUMN migration.batch_control.phase IS 'Migration phase: A_DUAL_WRITE, B_BACKFILL, C_READ_THROUGH or D_KILL_SWITCH.';
COMMENT ON COLUMN migration.batch_control.status IS 'PENDING, RUNNING, COMPLETED or FAILED.';
COMMENT ON COLUMN migration.batch_control.expected_count IS 'Documents the batch should load (from the Firebase side), if known.';
COMMENT ON COLUMN migration.batch_control.processed_count IS 'Documents the batch reports as loaded.';
COMMENT ON COLUMN migration.batch_control.resume_cursor IS 'Firebase cursor to resume an interrupted batch.';
COMMENT ON COLUMN migration.batch_control.error IS 'Why the batch FAILED (1–2000 characters).';
COMMENT ON COLUMN migration.batch_control.started_at IS 'When the batch started (required once not PENDING).';
COMMENT ON COLUMN migration.batch_control.finished_at IS 'When the batch COMPLETED or FAILED.';
COMMENT ON COLUMN migration.batch_control.created_at IS 'When the row was created.';

CREATE TABLE IF NOT EXISTS migration.raw_signals (
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id         uuid        NOT NULL,
    firebase_id       text        NOT NULL,
    batch_id          uuid,
    signal_type       text        NOT NULL,
    payload           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    source_created_at timestamptz,
    migrated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT raw_signals_pkey PRIMARY KEY (id),
    CONSTRAINT raw_signals_firebase_id_key UNIQUE (firebase_id),
    CONSTRAINT raw_signals_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT raw_signals_batch_id_fkey FOREIGN KEY (batch_id)
        REFERENCES migration.batch_control (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT raw_signals_firebase_id_check
        CHECK (octet_length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0),
    CONSTRAINT raw_signals_signal_type_check CHECK (signal_type ~ '^[a-z][a-z0-9_.]*$' AND length(signal_type) <= 100),
    CONSTRAINT raw_signals_payload_check CHECK (jsonb_typeof(payload) = 'object')
);
COMMENT ON TABLE migration.raw_signals IS 'Raw marketing signals backfilled from Firebase; firebase_id makes the load idempotent.';
COMMENT ON COLUMN migration.raw_signals.id IS 'Row identifier.';
COMMENT ON COLUMN migration.raw_signals.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN migration.raw_signals.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 bytes (Firestore''s own limit, below the unique index''s 2704) without /.';
COMMENT ON COLUMN migration.raw_signals.batch_id IS 'Batch that loaded the row (NULL for dual-written rows).';
COMMENT ON COLUMN migration.raw_signals.signal_type IS 'Signal kind, lowercase dotted (e.g. web.visit), at most 100 characters.';
COMMENT ON COLUMN migration.raw_signals.payload IS 'The Firebase document (JSON object).';
COMMENT ON COLUMN migration.raw_signals.source_created_at IS 'Creation time on the Firebase side.';
COMMENT ON COLUMN migration.raw_signals.migrated_at IS 'When the row was loaded.';

CREATE TABLE IF NOT EXISTS migration.campaigns (
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id         uuid        NOT NULL,
    firebase_id       text        NOT NULL,
    batch_id          uuid,
    name              text        NOT NULL,
    status            text        NOT NULL,
    budget            numeric(19, 4),
    currency          text,
    payload           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    source_created_at timestamptz,
    migrated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_pkey PRIMARY KEY (id),
    CONSTRAINT campaigns_firebase_id_key UNIQUE (firebase_id),
    CONSTRAINT campaigns_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT campaigns_batch_id_fkey FOREIGN KEY (batch_id)
        REFERENCES migration.batch_control (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT campaigns_firebase_id_check
        CHECK (octet_length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0),
    CONSTRAINT campaigns_name_check CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT campaigns_status_check CHECK (status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'COMPLETED', 'ARCHIVED')),
    CONSTRAINT campaigns_budget_check CHECK (budget >= 0 AND budget <> 'NaN'),
    CONSTRAINT campaigns_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT campaigns_budget_currency_check CHECK (budget IS NULL OR currency IS NOT NULL),
    CONSTRAINT campaigns_payload_check CHECK (jsonb_typeof(payload) = 'object')
);
COMMENT ON TABLE migration.campaigns IS 'Campaigns backfilled from Firebase; firebase_id makes the load idempotent.';
COMMENT ON COLUMN migration.campaigns.id IS 'Row identifier.';
COMMENT ON COLUMN migration.campaigns.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN migration.campaigns.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 bytes (Firestore''s own limit, below the unique index''s 2704) without /.';
COMMENT ON COLUMN migration.campaigns.batch_id IS 'Batch that loaded the row (NULL for dual-written rows).';
COMMENT ON COLUMN migration.campaigns.name IS 'Campaign name, 1–200 characters.';
COMMENT ON COLUMN migration.campaigns.status IS 'DRAFT, ACTIVE, PAUSED, COMPLETED or ARCHIVED.';
COMMENT ON COLUMN migration.campaigns.budget IS 'Budget (>= 0, not NaN), in currency; NULL if none.';
COMMENT ON COLUMN migration.campaigns.currency IS 'ISO 4217 code of the budget (required when budget is set).';
COMMENT ON COLUMN migration.campaigns.payload IS 'The rest of the Firebase document (JSON object).';
COMMENT ON COLUMN migration.campaigns.source_created_at IS 'Creation time on the Firebase side.';
COMMENT ON COLUMN migration.campaigns.migrated_at IS 'When the row was loaded.';

CREATE TABLE IF NOT EXISTS migration.audit_logs (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id   uuid        NOT NULL,
    firebase_id text        NOT NULL,
    batch_id    uuid,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    entity_type text,
    entity_id   text,
    details     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    occurred_at timestamptz NOT NULL,
    migrated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_logs_pkey PRIMARY KEY (id),
    CONSTRAINT audit_logs_firebase_id_key UNIQUE (firebase_id),
    CONSTRAINT audit_logs_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT audit_logs_batch_id_fkey FOREIGN KEY (batch_id)
        REFERENCES migration.batch_control (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT audit_logs_firebase_id_check
        CHECK (octet_length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0),
    CONSTRAINT audit_logs_actor_check CHECK (length(actor) BETWEEN 1 AND 200),
    CONSTRAINT audit_logs_action_check CHECK (length(action) BETWEEN 1 AND 100),
    CONSTRAINT audit_logs_entity_type_check CHECK (length(entity_type) BETWEEN 1 AND 100),
    CONSTRAINT audit_logs_entity_id_check CHECK (length(entity_id) BETWEEN 1 AND 200),
    CONSTRAINT audit_logs_details_check CHECK (jsonb_typeof(details) = 'object')
);
COMMENT ON TABLE migration.audit_logs IS 'Audit trail backfilled from Firebase; firebase_id makes the load idempotent.';
COMMENT ON COLUMN migration.audit_logs.id IS 'Row identifier.';
COMMENT ON COLUMN migration.audit_logs.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN migration.audit_logs.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 bytes (Firestore''s own limit, below the unique index''s 2704) without /.';
COMMENT ON COLUMN migration.audit_logs.batch_id IS 'Batch that loaded the row (NULL for dual-written rows).';
COMMENT ON COLUMN migration.audit_logs.actor IS 'Who acted (user id or service), 1–200 characters.';
COMMENT ON COLUMN migration.audit_logs.action IS 'What was done, 1–100 characters.';
COMMENT ON COLUMN migration.audit_logs.entity_type IS 'Kind of entity acted on, or NULL.';
COMMENT ON COLUMN migration.audit_logs.entity_id IS 'Identifier of the entity acted on, or NULL.';
COMMENT ON COLUMN migration.audit_logs.details IS 'Further details (JSON object).';
COMMENT ON COLUMN migration.audit_logs.occurred_at IS 'When it happened (Firebase side).';
COMMENT ON COLUMN migration.audit_logs.migrated_at IS 'When the row was loaded.';

CREATE INDEX IF NOT EXISTS raw_signals_batch_id_idx ON migration.raw_signals (batch_id);
CREATE INDEX IF NOT EXISTS campaigns_batch_id_idx ON migration.campaigns (batch_id);
CREATE INDEX IF NOT EXISTS audit_logs_batch_id_idx ON migration.audit_logs (batch_id);

-- One tenant's report reads that tenant's batches and rows only (its batches by tenant, their rows by batch, its
-- rows by tenant), whatever the other tenants hold.
CREATE INDEX IF NOT EXISTS batch_control_tenant_id_idx ON migration.batch_control (tenant_id);
CREATE INDEX IF NOT EXISTS raw_signals_tenant_id_batch_id_idx ON migration.raw_signals (tenant_id, batch_id);
CREATE INDEX IF NOT EXISTS campaigns_tenant_id_batch_id_idx ON migration.campaigns (tenant_id, batch_id);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_id_batch_id_idx ON migration.audit_logs (tenant_id, batch_id);
COMMENT ON INDEX migration.batch_control_tenant_id_idx IS 'A tenant''s batches (migration.validate_migrated_data of one tenant).';
COMMENT ON INDEX migration.raw_signals_tenant_id_batch_id_idx IS 'A tenant''s rows and their batches (migration.validate_migrated_data of one tenant).';
COMMENT ON INDEX migration.campaigns_tenant_id_batch_id_idx IS 'A tenant''s rows and their batches (migration.validate_migrated_data of one tenant).';
COMMENT ON INDEX migration.audit_logs_tenant_id_batch_id_idx IS 'A tenant''s rows and their batches (migration.validate_migrated_data of one tenant).';

-- 1.0.0 had no argument (upgrade 0051 drops that signature); its calls resolve to this one (p_only_tenant_id
-- defaults to NULL: every tenant).
-- PL/pgSQL with custom plans (plan_cache_mode): each call is planned for its p_only_tenant_id, so "p_only_tenant_id IS NULL
-- OR tenant_id = p_only_tenant_id" folds to the whole table or to an index lookup of the tenant.
CREATE OR REPLACE FUNCTION migration.validate_migrated_data(p_only_tenant_id uuid DEFAULT NULL)
RETURNS TABLE (check_name text, status text, observed bigint, details text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    -- MATERIALIZED: each batch's rows are counted once (inlined, the count ran once per comparison).
    WITH loaded AS MATERIALIZED (
        SELECT b.id, b.firebase_id, b.collection, b.status, b.expected_count, b.processed_count, b.started_at,
               CASE b.collection
                   WHEN 'raw_signals' THEN (SELECT count(*) FROM migration.raw_signals AS r WHERE r.batch_id = b.id)
                   WHEN 'campaigns' THEN (SELECT count(*) FROM migration.campaigns AS c WHERE c.batch_id = b.id)
                   ELSE (SELECT count(*) FROM migration.audit_logs AS a WHERE a.batch_id = b.id)
               END AS actual
          FROM migration.batch_control AS b
         WHERE p_only_tenant_id IS NULL OR b.tenant_id = p_only_tenant_id
    ),
    mismatched AS (
        SELECT * FROM loaded AS l
         WHERE l.status = 'COMPLETED'
           AND (l.actual <> l.processed_count OR (l.expected_count IS NOT NULL AND l.actual <> l.expected_count))
    ),
    -- A tenant's misfiled rows: its own rows in a batch of another collection or tenant, and other tenants'
    -- rows in its batches, counted batch by batch (by batch_id); the second sum is 0 for the whole report,
    -- where the first covers every row.
    misfiled AS (
        SELECT (SELECT count(*) FROM (
            SELECT r.batch_id FROM migration.raw_signals AS r JOIN migration.batch_control AS b ON b.id = r.batch_id
             WHERE (b.collection <> 'raw_signals' OR b.tenant_id <> r.tenant_id)
               AND (p_only_tenant_id IS NULL OR r.tenant_id = p_only_tenant_id)
            UNION ALL
            SELECT c.batch_id FROM migration.campaigns AS c JOIN migration.batch_control AS b ON b.id = c.batch_id
             WHERE (b.collection <> 'campaigns' OR b.tenant_id <> c.tenant_id)
               AND (p_only_tenant_id IS NULL OR c.tenant_id = p_only_tenant_id)
            UNION ALL
            SELECT a.batch_id FROM migration.audit_logs AS a JOIN migration.batch_control AS b ON b.id = a.batch_id
             WHERE (b.collection <> 'audit_logs' OR b.tenant_id <> a.tenant_id)
               AND (p_only_tenant_id IS NULL OR a.tenant_id = p_only_tenant_id)
        ) AS x)
        + (SELECT coalesce(sum(
                   (SELECT count(*) FROM migration.raw_signals AS r WHERE r.batch_id = b.id AND r.tenant_id <> b.tenant_id)
                 + (SELECT count(*) FROM migration.campaigns AS c WHERE c.batch_id = b.id AND c.tenant_id <> b.tenant_id)
                 + (SELECT count(*) FROM migration.audit_logs AS a WHERE a.batch_id = b.id AND a.tenant_id <> b.tenant_id)), 0)
             FROM migration.batch_control AS b
            WHERE p_only_tenant_id IS NOT NULL AND b.tenant_id = p_only_tenant_id)::bigint AS n
    )
    SELECT 'completed_batches_counts_match',
           CASE WHEN count(*) = 0 THEN 'OK' ELSE 'FAIL' END,
           count(*),
           CASE WHEN count(*) = 0 THEN 'every COMPLETED batch loaded the rows it reports'
                ELSE 'COMPLETED batches whose rows differ from processed/expected count: ' || string_agg(m.firebase_id, ', ' ORDER BY m.firebase_id) END
      FROM mismatched AS m
    UNION ALL
    SELECT 'rows_match_their_batch',
           CASE WHEN f.n = 0 THEN 'OK' ELSE 'FAIL' END, f.n,
           'rows whose batch is of another collection or tenant'
      FROM misfiled AS f
    UNION ALL
    SELECT 'failed_batches',
           CASE WHEN count(*) = 0 THEN 'OK' ELSE 'WARN' END, count(*),
           'batches in status FAILED (re-run them: firebase_id keeps the load idempotent)'
      FROM migration.batch_control AS b
     WHERE b.status = 'FAILED' AND (p_only_tenant_id IS NULL OR b.tenant_id = p_only_tenant_id)
    UNION ALL
    SELECT 'stalled_batches',
           CASE WHEN count(*) = 0 THEN 'OK' ELSE 'WARN' END, count(*),
           'batches RUNNING for more than 1 hour'
      FROM migration.batch_control AS b
     WHERE b.status = 'RUNNING' AND b.started_at < now() - interval '1 hour'
       AND (p_only_tenant_id IS NULL OR b.tenant_id = p_only_tenant_id)
    UNION ALL
    SELECT 'rows_of_inactive_tenants',
           CASE WHEN count(*) = 0 THEN 'OK' ELSE 'WARN' END, count(*),
           'migrated rows owned by SUSPENDED or CLOSED tenants'
      FROM (SELECT r.tenant_id FROM migration.raw_signals AS r
            UNION ALL SELECT c.tenant_id FROM migration.campaigns AS c
            UNION ALL SELECT a.tenant_id FROM migration.audit_logs AS a) AS m
      JOIN iam.tenants AS t ON t.id = m.tenant_id
     WHERE t.status <> 'ACTIVE' AND (p_only_tenant_id IS NULL OR m.tenant_id = p_only_tenant_id)
    UNION ALL
    SELECT 'raw_signals_rows', 'OK', count(*), 'rows in migration.raw_signals'
      FROM migration.raw_signals AS r WHERE p_only_tenant_id IS NULL OR r.tenant_id = p_only_tenant_id
    UNION ALL
    SELECT 'campaigns_rows', 'OK', count(*), 'rows in migration.campaigns'
      FROM migration.campaigns AS c WHERE p_only_tenant_id IS NULL OR c.tenant_id = p_only_tenant_id
    UNION ALL
    SELECT 'audit_logs_rows', 'OK', count(*), 'rows in migration.audit_logs'
      FROM migration.audit_logs AS a WHERE p_only_tenant_id IS NULL OR a.tenant_id = p_only_tenant_id;
END
$$;
COMMENT ON FUNCTION migration.validate_migrated_data(uuid) IS 'Backfill report, one row per check: check_name, status (OK | WARN | FAIL), observed count, details. Checks: COMPLETED batches'' counts match their rows, rows match their batch''s collection and tenant, FAILED and stalled batches, rows of inactive tenants, row counts. With p_only_tenant_id: that tenant''s batches and rows only (and other tenants'' rows filed in its batches), read by index — a report per tenant costs that tenant''s rows. Security invoker.';

ALTER TABLE migration.batch_control ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON migration.batch_control;
CREATE POLICY tenant_isolation ON migration.batch_control
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON migration.batch_control IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

ALTER TABLE migration.raw_signals ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON migration.raw_signals;
CREATE POLICY tenant_isolation ON migration.raw_signals
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON migration.raw_signals IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

ALTER TABLE migration.campaigns ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON migration.campaigns;
CREATE POLICY tenant_isolation ON migration.campaigns
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON migration.campaigns IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

ALTER TABLE migration.audit_logs ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON migration.audit_logs;
CREATE POLICY tenant_isolation ON migration.audit_logs
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON migration.audit_logs IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA migration FROM PUBLIC;

RESET statement_timeout;
RESET lock_timeout;
