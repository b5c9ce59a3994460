-- 0051_server_side_costs.sql — issue 14: the server's share of the hot paths and operator reads.
-- iam.calling_role_is_unrestricted answers a superuser from is_superuser and keeps its plan (PL/pgSQL);
-- events.append_event checks valid arguments in one expression; sys.active_sagas reads each saga's steps once;
-- events.stream_summary is read from the first-event index and each stream's head (cost per stream, not per
-- event); events.cleanup_old_snapshots and migration.validate_migrated_data take an optional tenant (their
-- 1.0.0 calls still resolve). Uses the indexes of 0050.
-- release: 1.1.0
-- transaction: file
-- down: 0051_server_side_costs.down.sql
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

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

CREATE OR REPLACE FUNCTION events.append_event(
    p_tenant_id uuid,
    p_stream_id text,
    p_stream_type text,
    p_event_type text,
    p_payload jsonb,
    p_expected_version bigint,
    p_metadata jsonb DEFAULT '{}'::jsonb,
    p_event_id uuid DEFAULT NULL,
    p_occurred_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current_version bigint;
    current_type text;
    existing events.event_store%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    -- Valid arguments pass one expression; only a call that fails it runs the checks that say which argument
    -- is wrong, in signature order (six PERFORMs per append cost more than the rest of the checking).
    IF (length(p_stream_id) <= 200 AND p_stream_id ~ '^[A-Za-z0-9][A-Za-z0-9:._/-]*$'
        AND length(p_stream_type) <= 64 AND p_stream_type ~ '^[A-Z][A-Z0-9_]*$'
        AND length(p_event_type) <= 100 AND p_event_type ~ '^[A-Za-z][A-Za-z0-9_.]*$'
        AND jsonb_typeof(p_payload) = 'object' AND jsonb_typeof(p_metadata) = 'object'
        AND octet_length(p_payload::text) <= 1048576 AND octet_length(p_metadata::text) <= 1048576
        AND p_expected_version IS NOT NULL AND p_occurred_at IS NOT NULL) IS NOT TRUE THEN
        PERFORM iam.assert_text_argument('p_stream_id', p_stream_id, 200, '^[A-Za-z0-9][A-Za-z0-9:._/-]*$');
        PERFORM iam.assert_text_argument('p_stream_type', p_stream_type, 64, '^[A-Z][A-Z0-9_]*$');
        PERFORM iam.assert_text_argument('p_event_type', p_event_type, 100, '^[A-Za-z][A-Za-z0-9_.]*$');
        PERFORM iam.assert_json_argument('p_payload', p_payload);
        PERFORM iam.assert_json_argument('p_metadata', p_metadata);
        IF jsonb_typeof(p_payload) <> 'object' OR jsonb_typeof(p_metadata) <> 'object' THEN
            RAISE EXCEPTION USING ERRCODE = 'LB602',
                MESSAGE = format('p_payload and p_metadata must be JSON objects, got %s and %s', jsonb_typeof(p_payload), jsonb_typeof(p_metadata));
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_expected_version and p_occurred_at must not be NULL';
    END IF;

    IF p_event_id IS NOT NULL THEN
        SELECT * INTO existing FROM events.event_store AS e WHERE e.event_id = p_event_id;
        IF FOUND THEN
            RETURN events.replayed_append(existing, p_tenant_id, p_stream_id, p_stream_type, p_event_type, p_payload, p_metadata);
        END IF;
    END IF;

    SELECT e.version, e.stream_type INTO current_version, current_type
      FROM events.event_store AS e
     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
     ORDER BY e.version DESC
     LIMIT 1;
    IF coalesce(current_version, 0) <> p_expected_version THEN
        RAISE EXCEPTION USING ERRCODE = 'LB601',
            MESSAGE = format('wrong expected version for stream %s: expected %s, stream is at %s',
                             p_stream_id, p_expected_version, coalesce(current_version, 0));
    END IF;
    IF current_type IS NOT NULL AND current_type <> p_stream_type THEN
        RAISE EXCEPTION USING ERRCODE = 'LB604',
            MESSAGE = format('stream %s has stream_type %s, not %s', p_stream_id, current_type, p_stream_type);
    END IF;

    -- A concurrent append of the same version (or event id) makes this INSERT wait for it; once it commits,
    -- nothing is inserted and we say why. No EXCEPTION block: that would cost a subtransaction per append.
    INSERT INTO events.event_store (event_id, tenant_id, stream_id, stream_type, version, event_type, payload, metadata, occurred_at)
    VALUES (coalesce(p_event_id, gen_random_uuid()), p_tenant_id, p_stream_id, p_stream_type,
            p_expected_version + 1, p_event_type, p_payload, p_metadata, p_occurred_at)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN p_expected_version + 1;
    END IF;
    IF p_event_id IS NOT NULL THEN
        SELECT * INTO existing FROM events.event_store AS e WHERE e.event_id = p_event_id;
        IF FOUND THEN
            RETURN events.replayed_append(existing, p_tenant_id, p_stream_id, p_stream_type, p_event_type, p_payload, p_metadata);
        END IF;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LB601',
        MESSAGE = format('wrong expected version for stream %s: expected %s, another append won version %s',
                         p_stream_id, p_expected_version, p_expected_version + 1);
END
$$;
COMMENT ON FUNCTION events.append_event(uuid, text, text, text, jsonb, bigint, jsonb, uuid, timestamptz) IS 'Appends an event if the stream is at p_expected_version (0 for a new stream) and returns the new version (expected + 1). Concurrent appends with the same expected version: exactly one wins, the others raise LB601. Idempotent when p_event_id is given. Raises LB001–LB006, LB601, LB602, LB604, LB605.';

DROP FUNCTION events.cleanup_old_snapshots(integer);
CREATE OR REPLACE FUNCTION events.cleanup_old_snapshots(p_keep integer DEFAULT 3, p_only_tenant_id uuid DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed integer;
BEGIN
    IF p_keep IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_keep must not be NULL';
    END IF;
    IF p_keep < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB005', MESSAGE = format('p_keep must be at least 1, got %s', p_keep);
    END IF;
    -- Two statements rather than one with "p_only_tenant_id IS NULL OR …": each plans for what it is given, the
    -- tenant's by the primary key (tenant_id, stream_id, version), reading only that tenant's snapshots.
    IF p_only_tenant_id IS NULL THEN
        DELETE FROM events.snapshots AS s
         USING (SELECT x.tenant_id, x.stream_id, x.version,
                       row_number() OVER (PARTITION BY x.tenant_id, x.stream_id ORDER BY x.version DESC) AS rank
                  FROM events.snapshots AS x) AS ranked
         WHERE ranked.rank > p_keep
           AND s.tenant_id = ranked.tenant_id AND s.stream_id = ranked.stream_id AND s.version = ranked.version;
    ELSE
        DELETE FROM events.snapshots AS s
         USING (SELECT x.stream_id, x.version,
                       row_number() OVER (PARTITION BY x.stream_id ORDER BY x.version DESC) AS rank
                  FROM events.snapshots AS x
                 WHERE x.tenant_id = p_only_tenant_id) AS ranked
         WHERE ranked.rank > p_keep
           AND s.tenant_id = p_only_tenant_id AND s.stream_id = ranked.stream_id AND s.version = ranked.version;
    END IF;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION events.cleanup_old_snapshots(integer, uuid) IS 'Weekly maintenance: deletes all but the latest p_keep (default 3) snapshots of every stream (of tenant p_only_tenant_id only, when given: reads that tenant''s snapshots only) and returns how many. Never changes a rehydrated state. Security invoker: needs DELETE on events.snapshots.';

CREATE OR REPLACE VIEW sys.active_sagas
WITH (security_invoker = true) AS
SELECT s.id,
       s.tenant_id,
       s.saga_type,
       s.state,
       s.step_count,
       st.steps_succeeded,
       CASE WHEN s.state = 'RUNNING' THEN st.first_pending END       AS next_step,
       CASE WHEN s.state = 'COMPENSATING' THEN st.last_succeeded END AS next_compensation_step,
       s.failed_step,
       s.started_at,
       s.updated_at,
       now() - s.started_at                                          AS age
FROM sys.sagas AS s
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.status IN ('SUCCEEDED', 'COMPENSATED')) AS steps_succeeded,
           min(x.step_index) FILTER (WHERE x.status = 'PENDING')            AS first_pending,
           max(x.step_index) FILTER (WHERE x.status = 'SUCCEEDED')          AS last_succeeded
      FROM sys.saga_steps AS x
     WHERE x.saga_id = s.id
) AS st
WHERE s.state IN ('RUNNING', 'COMPENSATING');
COMMENT ON VIEW sys.active_sagas IS 'Sagas not yet final (RUNNING or COMPENSATING), with the step to run next or to compensate next. Security invoker.';
COMMENT ON COLUMN sys.active_sagas.id IS 'Saga identifier.';
COMMENT ON COLUMN sys.active_sagas.tenant_id IS 'Owning tenant.';
COMMENT ON COLUMN sys.active_sagas.saga_type IS 'Kind of saga.';
COMMENT ON COLUMN sys.active_sagas.state IS 'RUNNING or COMPENSATING.';
COMMENT ON COLUMN sys.active_sagas.step_count IS 'Number of steps.';
COMMENT ON COLUMN sys.active_sagas.steps_succeeded IS 'Steps that succeeded (including those compensated since).';
COMMENT ON COLUMN sys.active_sagas.next_step IS 'RUNNING: the next step to run.';
COMMENT ON COLUMN sys.active_sagas.next_compensation_step IS 'COMPENSATING: the next step to compensate (highest succeeded step).';
COMMENT ON COLUMN sys.active_sagas.failed_step IS 'COMPENSATING: the step that failed.';
COMMENT ON COLUMN sys.active_sagas.started_at IS 'When the saga started.';
COMMENT ON COLUMN sys.active_sagas.updated_at IS 'Last change.';
COMMENT ON COLUMN sys.active_sagas.age IS 'Time since the saga started.';

CREATE OR REPLACE VIEW events.stream_summary
WITH (security_invoker = true) AS
SELECT f.tenant_id,
       f.stream_id,
       f.stream_type,
       h.version                          AS current_version,
       h.version                          AS event_count,
       f.occurred_at                      AS first_occurred_at,
       h.occurred_at                      AS last_occurred_at,
       h.global_position                  AS last_global_position,
       (SELECT max(s.version)
          FROM events.snapshots AS s
         WHERE s.tenant_id = f.tenant_id
           AND s.stream_id = f.stream_id) AS latest_snapshot_version
FROM events.event_store AS f
CROSS JOIN LATERAL (
    SELECT e.version,
           e.occurred_at,
           e.global_position
      FROM events.event_store AS e
     WHERE e.tenant_id = f.tenant_id
       AND e.stream_id = f.stream_id
     ORDER BY e.version DESC
     LIMIT 1
) AS h
WHERE f.version = 1;
COMMENT ON VIEW events.stream_summary IS 'One row per stream: type, current version, event count, time span, last global position, latest snapshot. Security invoker.';
COMMENT ON COLUMN events.stream_summary.tenant_id IS 'Owning tenant.';
COMMENT ON COLUMN events.stream_summary.stream_id IS 'Stream identifier.';
COMMENT ON COLUMN events.stream_summary.stream_type IS 'Aggregate type of the stream.';
COMMENT ON COLUMN events.stream_summary.current_version IS 'Latest version (= number of events).';
COMMENT ON COLUMN events.stream_summary.event_count IS 'Number of events.';
COMMENT ON COLUMN events.stream_summary.first_occurred_at IS 'occurred_at of the stream''s first event (version 1).';
COMMENT ON COLUMN events.stream_summary.last_occurred_at IS 'occurred_at of the stream''s latest event (its head).';
COMMENT ON COLUMN events.stream_summary.last_global_position IS 'Global position of the stream''s last event.';
COMMENT ON COLUMN events.stream_summary.latest_snapshot_version IS 'Version of the latest snapshot, or NULL.';

DROP FUNCTION migration.validate_migrated_data();
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

REVOKE ALL ON FUNCTION events.cleanup_old_snapshots(integer, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION migration.validate_migrated_data(uuid) FROM PUBLIC;

RESET lock_timeout;
RESET statement_timeout;
