-- 006_schema_events.sql — schema events: the immutable event log, snapshots and rehydration.
--
-- A stream is (tenant_id, stream_id) with one stream_type. Versions are per stream, gapless, starting at 1: a
-- BEFORE INSERT trigger admits only version = current + 1, and UNIQUE (tenant_id, stream_id, version) lets exactly
-- one of two concurrent appends with the same expected version win (the loser gets LB601). global_position orders
-- all events for catch-up readers. Rows are never updated, deleted or truncated (LB901).
-- State is the deterministic fold events.apply_event over the stream; a snapshot stores the fold at a version and
-- is verified (or computed) on insert against the previous snapshot + events, so rehydrate (latest snapshot + later
-- events) always equals replay_stream (every event from the start). Requires 001. Plain SQL, idempotent.

-- Fail fast instead of queueing behind the application's locks (schema/README.md, "Lock and statement
-- timeouts"); reset at the end of the file.
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE SCHEMA IF NOT EXISTS events;
COMMENT ON SCHEMA events IS 'Event sourcing: append-only event_store with per-stream versions, snapshots, rehydration.';

-- The event row's value rules, one function for event_store_row_check: PostgreSQL rebuilds a table's CHECKs from
-- their stored text for every INSERT statement, and five CHECKs cost more than the row's indexes (issue 14); one
-- call's text is short. No SET clause (it would cost a configuration save/restore per row): every name is
-- qualified.
CREATE OR REPLACE FUNCTION events.event_store_row_is_valid(
    p_stream_id text,
    p_stream_type text,
    p_event_type text,
    p_payload jsonb,
    p_metadata jsonb)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    RETURN p_stream_id OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9:._/-]*$'
           AND pg_catalog.length(p_stream_id) OPERATOR(pg_catalog.<=) 200
           AND p_stream_type OPERATOR(pg_catalog.~) '^[A-Z][A-Z0-9_]*$'
           AND pg_catalog.length(p_stream_type) OPERATOR(pg_catalog.<=) 64
           AND p_event_type OPERATOR(pg_catalog.~) '^[A-Za-z][A-Za-z0-9_.]*$'
           AND pg_catalog.length(p_event_type) OPERATOR(pg_catalog.<=) 100
           AND pg_catalog.jsonb_typeof(p_payload) OPERATOR(pg_catalog.=) 'object'
           AND pg_catalog.jsonb_typeof(p_metadata) OPERATOR(pg_catalog.=) 'object';
END
$$;
COMMENT ON FUNCTION events.event_store_row_is_valid(text, text, text, jsonb, jsonb) IS 'The CHECK event_store_row_check: stream_id matches ^[A-Za-z0-9][A-Za-z0-9:._/-]*$ (at most 200 characters), stream_type ^[A-Z][A-Z0-9_]*$ (at most 64), event_type ^[A-Za-z][A-Za-z0-9_.]*$ (at most 100), payload and metadata are JSON objects.';

CREATE TABLE IF NOT EXISTS events.event_store (
    global_position bigint      GENERATED ALWAYS AS IDENTITY,
    event_id        uuid        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id       uuid        NOT NULL,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    version         bigint      NOT NULL,
    event_type      text        NOT NULL,
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_store_pkey PRIMARY KEY (global_position),
    CONSTRAINT event_store_tenant_id_event_id_key UNIQUE (tenant_id, event_id),
    CONSTRAINT event_store_stream_version_key UNIQUE (tenant_id, stream_id, version),
    CONSTRAINT event_store_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT event_store_version_check CHECK (version >= 1),
    CONSTRAINT event_store_row_check
        CHECK (events.event_store_row_is_valid(stream_id, stream_type, event_type, payload, metadata))
);
COMMENT ON TABLE events.event_store IS 'Immutable event log. Per-stream versions are gapless from 1 (trigger + unique key); UPDATE, DELETE and TRUNCATE are refused (LB901). Append with events.append_event().';
COMMENT ON COLUMN events.event_store.global_position IS 'Position in the whole log (identity), for catch-up readers. Assigned at insert: a reader must allow for transactions that commit out of position order.';
COMMENT ON COLUMN events.event_store.event_id IS 'Unique event id; a caller-chosen id makes events.append_event idempotent.';
COMMENT ON COLUMN events.event_store.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT); part of the stream identity.';
COMMENT ON COLUMN events.event_store.stream_id IS 'Stream identifier within the tenant, 1–200 of A–Z a–z 0–9 : . _ / - (starting with a letter or digit).';
COMMENT ON COLUMN events.event_store.stream_type IS 'Aggregate type of the stream (e.g. CAMPAIGN), upper case; the same for every event of a stream.';
COMMENT ON COLUMN events.event_store.version IS 'Position in the stream: 1, 2, 3, … without gaps.';
COMMENT ON COLUMN events.event_store.event_type IS 'Event name (e.g. CampaignCreated), 1–100 of A–Z a–z 0–9 _ . starting with a letter.';
COMMENT ON COLUMN events.event_store.payload IS 'Event data (JSON object, at most 1 MiB through append_event).';
COMMENT ON COLUMN events.event_store.metadata IS 'Correlation/causation ids and the like (JSON object).';
COMMENT ON COLUMN events.event_store.occurred_at IS 'When the event happened (default: start of the appending transaction).';

CREATE INDEX IF NOT EXISTS event_store_stream_type_occurred_at_idx
    ON events.event_store (stream_type, occurred_at DESC);
-- One entry per stream (its first event): a tenant's streams are listed from it without reading their events
-- (events.stream_summary). Only an append that opens a stream writes to it.
CREATE INDEX IF NOT EXISTS event_store_stream_first_idx
    ON events.event_store (tenant_id, stream_id) WHERE version = 1;
COMMENT ON INDEX events.event_store_stream_first_idx IS 'The first event of every stream, by tenant: lists a tenant''s streams in time proportional to their number (events.stream_summary).';

-- Append-only (iam.refuse_append_only_change): a mistake is answered with a compensating event.
DROP TRIGGER IF EXISTS event_store_append_only ON events.event_store;
CREATE TRIGGER event_store_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON events.event_store
    FOR EACH STATEMENT EXECUTE FUNCTION iam.refuse_append_only_change(
        'Record a compensating event with events.append_event().');
ALTER TABLE events.event_store ENABLE ALWAYS TRIGGER event_store_append_only;

-- Gapless versions and one type per stream, for every INSERT, whoever makes it. The tenant binding is checked
-- before anything is read (a direct INSERT for another tenant's stream must not learn its version or type), and a
-- position the sequence has not handed out yet (OVERRIDING SYSTEM VALUE) is refused: it would take another
-- tenant's next positions, or, near 2^63, blind every catch-up reader.
-- The binding is decided inline when it is plain (app.tenant_id spelled as the row's tenant, or an unbound
-- superuser): iam.assert_row_tenant would answer the same, at the price of two PL/pgSQL calls and a regex per
-- event; any other case (a binding spelled otherwise, a malformed one, another role) is its to decide.
CREATE OR REPLACE FUNCTION events.check_event_version()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bound text := current_setting('app.tenant_id', true);
    current_version bigint;
    current_type text;
BEGIN
    IF (bound = NEW.tenant_id::text OR (coalesce(bound, '') = '' AND current_setting('is_superuser') = 'on')) IS NOT TRUE THEN
        PERFORM iam.assert_row_tenant(NEW.tenant_id);
    END IF;
    IF NEW.global_position > coalesce(pg_sequence_last_value('events.event_store_global_position_seq'::regclass), 0) THEN
        RAISE EXCEPTION USING ERRCODE = 'LB609',
            MESSAGE = format('global_position %s was not assigned by the database: OVERRIDING SYSTEM VALUE is not allowed',
                             NEW.global_position);
    END IF;
    SELECT e.version, e.stream_type INTO current_version, current_type
      FROM events.event_store AS e
     WHERE e.tenant_id = NEW.tenant_id AND e.stream_id = NEW.stream_id
     ORDER BY e.version DESC
     LIMIT 1;
    IF coalesce(current_version, 0) + 1 <> NEW.version THEN
        RAISE EXCEPTION USING ERRCODE = 'LB601',
            MESSAGE = format('stream %s is at version %s: the next event must be version %s, not %s',
                             NEW.stream_id, coalesce(current_version, 0), coalesce(current_version, 0) + 1, NEW.version);
    END IF;
    IF current_type IS NOT NULL AND current_type <> NEW.stream_type THEN
        RAISE EXCEPTION USING ERRCODE = 'LB604',
            MESSAGE = format('stream %s has stream_type %s, not %s', NEW.stream_id, current_type, NEW.stream_type);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION events.check_event_version() IS 'Trigger: the row''s tenant must be the session''s binding unless the calling role is unrestricted (LB003, checked first), its global_position one the sequence handed out (LB609), its version the stream''s current version + 1 (LB601) and its stream_type the stream''s (LB604).';

DROP TRIGGER IF EXISTS event_store_version ON events.event_store;
CREATE TRIGGER event_store_version
    BEFORE INSERT ON events.event_store
    FOR EACH ROW EXECUTE FUNCTION events.check_event_version();
ALTER TABLE events.event_store ENABLE ALWAYS TRIGGER event_store_version;

CREATE TABLE IF NOT EXISTS events.snapshots (
    tenant_id  uuid        NOT NULL,
    stream_id  text        NOT NULL,
    version    bigint      NOT NULL,
    state      jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT snapshots_pkey PRIMARY KEY (tenant_id, stream_id, version),
    CONSTRAINT snapshots_event_fkey FOREIGN KEY (tenant_id, stream_id, version)
        REFERENCES events.event_store (tenant_id, stream_id, version) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT snapshots_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT snapshots_state_check CHECK (jsonb_typeof(state) = 'object')
);
COMMENT ON TABLE events.snapshots IS 'Folded state of a stream at a version, to speed rehydration up. Verified on insert (equal to the replay, LB606); never updated; events.cleanup_old_snapshots() keeps the last 3 per stream.';
COMMENT ON COLUMN events.snapshots.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN events.snapshots.stream_id IS 'The stream.';
COMMENT ON COLUMN events.snapshots.version IS 'Version of the last event folded in (FK to that event).';
COMMENT ON COLUMN events.snapshots.state IS 'events.apply_event folded over events 1..version (JSON object).';
COMMENT ON COLUMN events.snapshots.created_at IS 'When the snapshot was taken.';

-- The fold. Deterministic and total: shallow merge of the payload into the state, a JSON null removing the key.
CREATE OR REPLACE FUNCTION events.apply_event(p_state jsonb, p_event_type text, p_payload jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_object_agg(kv.key, kv.value), '{}'::jsonb)
      FROM jsonb_each(coalesce(p_state, '{}'::jsonb) || coalesce(p_payload, '{}'::jsonb)) AS kv
     WHERE kv.value <> 'null'::jsonb
$$;
COMMENT ON FUNCTION events.apply_event(jsonb, text, jsonb) IS 'The stream fold: state || payload (shallow merge, later keys win), keys whose new value is JSON null removed. p_event_type is passed so a deployment can specialise the fold per type; this one ignores it. Used by snapshots, rehydrate and replay_stream alike.';

-- Folds a stream up to p_version, from the latest snapshot at or below it (or from the start).
-- apply_event is a shallow merge, so the fold is "each key's last write wins": a key's value is the one from the
-- latest event (or the snapshot) that mentions it, and a JSON null there removes it. Computed that way, in one
-- pass over the events read (sorted by key), the cost is linear in their size; applying apply_event event by event
-- copies the whole state every time (quadratic: 64 events of < 1 MiB each adding a key took 52 s and 417 MB).
-- The state is bounded (16 MiB, LB608), checked before it is built.
CREATE OR REPLACE FUNCTION events.fold_stream(
    p_tenant_id uuid,
    p_stream_id text,
    p_version bigint,
    p_use_snapshots boolean)
RETURNS TABLE (version bigint, state jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    base_version bigint := 0;
    base jsonb := '{}'::jsonb;
    state_size bigint;
    state_limit constant bigint := 16777216;
BEGIN
    IF p_use_snapshots THEN
        SELECT s.version, s.state INTO base_version, base
          FROM events.snapshots AS s
         WHERE s.tenant_id = p_tenant_id AND s.stream_id = p_stream_id AND s.version <= p_version
         ORDER BY s.version DESC
         LIMIT 1;
        IF NOT FOUND THEN
            base_version := 0;
            base := '{}'::jsonb;
        END IF;
    END IF;
    SELECT coalesce(max(e.version), base_version) INTO version
      FROM events.event_store AS e
     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
       AND e.version > base_version AND e.version <= p_version;
    -- First the size of the result, from each key's last write (the snapshot counts as written at base_version),
    -- without carrying the values through the sort; the state is built only if it fits.
    SELECT sum(octet_length(l.key) + l.size) INTO state_size
      FROM (SELECT DISTINCT ON (w.key) w.key, w.size, w.is_null
              FROM (SELECT kv.key, base_version AS at_version, pg_column_size(kv.value) AS size,
                           kv.value = 'null'::jsonb AS is_null
                      FROM jsonb_each(base) AS kv
                    UNION ALL
                    SELECT kv.key, e.version, pg_column_size(kv.value), kv.value = 'null'::jsonb
                      FROM events.event_store AS e
                     CROSS JOIN LATERAL jsonb_each(e.payload) AS kv
                     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
                       AND e.version > base_version AND e.version <= p_version) AS w
             ORDER BY w.key, w.at_version DESC) AS l
     WHERE NOT l.is_null;
    IF state_size > state_limit THEN
        RAISE EXCEPTION USING ERRCODE = 'LB608',
            MESSAGE = format('state of stream %s at version %s would be %s bytes: at most %s (16 MiB) is allowed',
                             p_stream_id, version, state_size, state_limit),
            HINT = 'Keep less in one stream''s state: remove keys (a JSON null) or split the stream.';
    END IF;
    SELECT coalesce(jsonb_object_agg(l.key, l.value), '{}'::jsonb) INTO state
      FROM (SELECT DISTINCT ON (w.key) w.key, w.value
              FROM (SELECT kv.key, kv.value, base_version AS at_version
                      FROM jsonb_each(base) AS kv
                    UNION ALL
                    SELECT kv.key, kv.value, e.version
                      FROM events.event_store AS e
                     CROSS JOIN LATERAL jsonb_each(e.payload) AS kv
                     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
                       AND e.version > base_version AND e.version <= p_version) AS w
             ORDER BY w.key, w.at_version DESC) AS l
     WHERE l.value <> 'null'::jsonb;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION events.fold_stream(uuid, text, bigint, boolean) IS 'Internal: state of a stream at p_version (each key''s last write, as events.apply_event folded event by event gives it, in one pass), starting from the latest snapshot <= p_version when p_use_snapshots, else from the first event. Raises LB608 when the state would exceed 16 MiB.';

-- Checks the tenant, the stream and the version asked for; returns the version to fold to.
CREATE OR REPLACE FUNCTION events.resolve_stream_version(p_tenant_id uuid, p_stream_id text, p_version bigint)
RETURNS bigint
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current_version bigint;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id, false);
    PERFORM iam.assert_text_argument('p_stream_id', p_stream_id, 200);
    -- The head of the stream, read from the unique index; max() would make PL/pgSQL's generic plan
    -- (after the fifth call) aggregate every version of the stream on PostgreSQL 15.
    SELECT e.version INTO current_version FROM events.event_store AS e
     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
     ORDER BY e.version DESC
     LIMIT 1;
    IF current_version IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB603', MESSAGE = format('unknown stream %L for tenant %s', p_stream_id, p_tenant_id);
    END IF;
    IF p_version IS NOT NULL AND p_version NOT BETWEEN 1 AND current_version THEN
        RAISE EXCEPTION USING ERRCODE = 'LB607',
            MESSAGE = format('stream %L has versions 1..%s, not %s', p_stream_id, current_version, p_version);
    END IF;
    RETURN coalesce(p_version, current_version);
END
$$;
COMMENT ON FUNCTION events.resolve_stream_version(uuid, text, bigint) IS 'Internal: LB603 for an unknown stream, LB607 for a version outside 1..current; returns the version asked for or the current one.';

CREATE OR REPLACE FUNCTION events.check_snapshot_state()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    folded record;
BEGIN
    PERFORM iam.assert_row_tenant(NEW.tenant_id);  -- before the fold reads anything of the stream
    SELECT * INTO folded FROM events.fold_stream(NEW.tenant_id, NEW.stream_id, NEW.version, true);
    -- A version with no event is left to the foreign key (23503), a NULL key to NOT NULL (23502).
    IF folded.version IS DISTINCT FROM NEW.version THEN
        RETURN NEW;
    END IF;
    IF NEW.state IS NULL THEN
        NEW.state := folded.state;
    ELSIF NEW.state <> folded.state THEN
        RAISE EXCEPTION USING ERRCODE = 'LB606',
            MESSAGE = format('snapshot of stream %s at version %s does not equal the replayed state', NEW.stream_id, NEW.version);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION events.check_snapshot_state() IS 'Trigger: the row''s tenant must be the session''s binding unless the calling role is unrestricted (LB003, checked first); a snapshot''s state must equal the fold of its stream at its version (LB606); a NULL state is filled in with it.';

DROP TRIGGER IF EXISTS snapshots_state ON events.snapshots;
CREATE TRIGGER snapshots_state
    BEFORE INSERT ON events.snapshots
    FOR EACH ROW EXECUTE FUNCTION events.check_snapshot_state();
ALTER TABLE events.snapshots ENABLE ALWAYS TRIGGER snapshots_state;

DROP TRIGGER IF EXISTS snapshots_immutable ON events.snapshots;
CREATE TRIGGER snapshots_immutable
    BEFORE UPDATE ON events.snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION iam.refuse_append_only_change(
        'Take a new snapshot with events.create_snapshot().');
ALTER TABLE events.snapshots ENABLE ALWAYS TRIGGER snapshots_immutable;

-- The answer to an append whose event id is already stored: its version if it is the same event (a retry).
CREATE OR REPLACE FUNCTION events.replayed_append(
    p_existing events.event_store,
    p_tenant_id uuid,
    p_stream_id text,
    p_stream_type text,
    p_event_type text,
    p_payload jsonb,
    p_metadata jsonb)
RETURNS bigint
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_existing.tenant_id = p_tenant_id AND p_existing.stream_id = p_stream_id
       AND p_existing.stream_type = p_stream_type AND p_existing.event_type = p_event_type
       AND p_existing.payload = p_payload AND p_existing.metadata = p_metadata THEN
        RETURN p_existing.version;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LB605',
        MESSAGE = format('event id %s was already used for a different event', p_existing.event_id);
END
$$;
COMMENT ON FUNCTION events.replayed_append(events.event_store, uuid, text, text, text, jsonb, jsonb) IS 'Internal: the version of an already stored event when the append repeats it exactly, else LB605.';

-- The tenant, the arguments and the stream's head cost one expression and one query when all is well: a binding
-- spelled as p_tenant_id (or an unbound superuser) is decided inline, the tenant's status is read with the head;
-- iam.assert_tenant_access runs only to decide the other cases or to raise, so the errors and their order (tenant
-- first, then the arguments in signature order) are those of 1.0.0.
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
    bound text := current_setting('app.tenant_id', true);
    tenant_status text;
    current_version bigint;
    current_type text;
    new_version bigint;
    existing events.event_store%ROWTYPE;
BEGIN
    IF (bound = p_tenant_id::text OR (coalesce(bound, '') = '' AND p_tenant_id IS NOT NULL
                                      AND current_setting('is_superuser') = 'on')) IS NOT TRUE THEN
        PERFORM iam.assert_tenant_access(p_tenant_id);
    END IF;
    -- Valid arguments pass one expression; only a call that fails it runs the checks that say which argument
    -- is wrong, in signature order (six PERFORMs per append cost more than the rest of the checking).
    IF (length(p_stream_id) <= 200 AND p_stream_id ~ '^[A-Za-z0-9][A-Za-z0-9:._/-]*$'
        AND length(p_stream_type) <= 64 AND p_stream_type ~ '^[A-Z][A-Z0-9_]*$'
        AND length(p_event_type) <= 100 AND p_event_type ~ '^[A-Za-z][A-Za-z0-9_.]*$'
        AND jsonb_typeof(p_payload) = 'object' AND jsonb_typeof(p_metadata) = 'object'
        AND octet_length(p_payload::text) <= 1048576 AND octet_length(p_metadata::text) <= 1048576
        AND p_expected_version IS NOT NULL AND p_occurred_at IS NOT NULL) IS NOT TRUE THEN
        PERFORM iam.assert_tenant_access(p_tenant_id);  -- an unknown or inactive tenant is said first
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

    SELECT t.status, h.version, h.stream_type INTO tenant_status, current_version, current_type
      FROM iam.tenants AS t
      LEFT JOIN LATERAL (SELECT e.version, e.stream_type
                           FROM events.event_store AS e
                          WHERE e.tenant_id = t.id AND e.stream_id = p_stream_id
                          ORDER BY e.version DESC
                          LIMIT 1) AS h ON true
     WHERE t.id = p_tenant_id;
    IF tenant_status IS DISTINCT FROM 'ACTIVE' THEN
        PERFORM iam.assert_tenant_access(p_tenant_id);  -- raises LB002 (unknown) or LB004 (not ACTIVE)
    END IF;

    IF p_event_id IS NOT NULL THEN
        SELECT * INTO existing FROM events.event_store AS e WHERE e.tenant_id = p_tenant_id AND e.event_id = p_event_id;
        IF FOUND THEN
            RETURN events.replayed_append(existing, p_tenant_id, p_stream_id, p_stream_type, p_event_type, p_payload, p_metadata);
        END IF;
    END IF;

    IF coalesce(current_version, 0) <> p_expected_version THEN
        RAISE EXCEPTION USING ERRCODE = 'LB601',
            MESSAGE = format('wrong expected version for stream %s: expected %s, stream is at %s',
                             p_stream_id, p_expected_version, coalesce(current_version, 0));
    END IF;
    IF current_type IS NOT NULL AND current_type <> p_stream_type THEN
        RAISE EXCEPTION USING ERRCODE = 'LB604',
            MESSAGE = format('stream %s has stream_type %s, not %s', p_stream_id, current_type, p_stream_type);
    END IF;
    new_version := p_expected_version + 1;

    -- A concurrent append of the same version (or event id) makes this INSERT wait for it; once it commits,
    -- nothing is inserted and we say why. No EXCEPTION block: that would cost a subtransaction per append.
    -- Without a caller's event id only the stream key can conflict (a new random id, a new position): it is the
    -- only index probed before the insert.
    IF p_event_id IS NULL THEN
        INSERT INTO events.event_store (event_id, tenant_id, stream_id, stream_type, version, event_type, payload, metadata, occurred_at)
        VALUES (gen_random_uuid(), p_tenant_id, p_stream_id, p_stream_type,
                new_version, p_event_type, p_payload, p_metadata, p_occurred_at)
        ON CONFLICT ON CONSTRAINT event_store_stream_version_key DO NOTHING;
    ELSE
        INSERT INTO events.event_store (event_id, tenant_id, stream_id, stream_type, version, event_type, payload, metadata, occurred_at)
        VALUES (p_event_id, p_tenant_id, p_stream_id, p_stream_type,
                new_version, p_event_type, p_payload, p_metadata, p_occurred_at)
        ON CONFLICT DO NOTHING;
    END IF;
    IF FOUND THEN
        RETURN new_version;
    END IF;
    IF p_event_id IS NOT NULL THEN
        SELECT * INTO existing FROM events.event_store AS e WHERE e.tenant_id = p_tenant_id AND e.event_id = p_event_id;
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

CREATE OR REPLACE FUNCTION events.rehydrate(p_tenant_id uuid, p_stream_id text, p_up_to_version bigint DEFAULT NULL)
RETURNS TABLE (version bigint, state jsonb)
LANGUAGE sql
SECURITY DEFINER
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f.version, f.state
      FROM events.fold_stream(p_tenant_id, p_stream_id,
                              events.resolve_stream_version(p_tenant_id, p_stream_id, p_up_to_version), true) AS f
$$;
COMMENT ON FUNCTION events.rehydrate(uuid, text, bigint) IS 'State of a stream (at p_up_to_version, default the latest): latest snapshot at or below it + the later events folded with events.apply_event. Always equals replay_stream. One row (version, state). Raises LB001–LB005, LB603, LB607.';

CREATE OR REPLACE FUNCTION events.replay_stream(p_tenant_id uuid, p_stream_id text, p_up_to_version bigint DEFAULT NULL)
RETURNS TABLE (version bigint, state jsonb)
LANGUAGE sql
SECURITY DEFINER
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f.version, f.state
      FROM events.fold_stream(p_tenant_id, p_stream_id,
                              events.resolve_stream_version(p_tenant_id, p_stream_id, p_up_to_version), false) AS f
$$;
COMMENT ON FUNCTION events.replay_stream(uuid, text, bigint) IS 'State of a stream folded from its first event, ignoring snapshots (the reference rehydrate must equal). One row (version, state). Raises LB001–LB005, LB603, LB607.';

CREATE OR REPLACE FUNCTION events.create_snapshot(p_tenant_id uuid, p_stream_id text, p_version bigint DEFAULT NULL)
RETURNS TABLE (version bigint, state jsonb)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    at_version bigint := events.resolve_stream_version(p_tenant_id, p_stream_id, p_version);
BEGIN
    -- state NULL: the snapshots trigger computes it; a snapshot already there is kept (it was verified).
    INSERT INTO events.snapshots AS s (tenant_id, stream_id, version, state)
    VALUES (p_tenant_id, p_stream_id, at_version, NULL)
    ON CONFLICT ON CONSTRAINT snapshots_pkey DO NOTHING;
    RETURN QUERY SELECT s.version, s.state FROM events.snapshots AS s
                  WHERE s.tenant_id = p_tenant_id AND s.stream_id = p_stream_id AND s.version = at_version;
END
$$;
COMMENT ON FUNCTION events.create_snapshot(uuid, text, bigint) IS 'Stores the state of a stream at p_version (default: its latest version) as a snapshot and returns it; idempotent. Raises LB001–LB005, LB603, LB607.';

-- 1.0.0 had only p_keep (upgrade 0051 drops that signature); its calls resolve to this one (p_only_tenant_id
-- defaults to NULL: every tenant).
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

-- From the index, not from the events: a stream is listed by its first event (event_store_stream_first_idx) and
-- described by its head (the stream key, read backwards once). Versions are gapless from 1 (the version trigger
-- and the unique key), so the head's version is also the number of events, and the head, inserted after every
-- other event of its stream, has the stream's last global position. A tenant's summary costs its number of
-- streams, not of events.
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

ALTER TABLE events.event_store ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON events.event_store;
CREATE POLICY tenant_isolation ON events.event_store
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON events.event_store IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

ALTER TABLE events.snapshots ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON events.snapshots;
CREATE POLICY tenant_isolation ON events.snapshots
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON events.snapshots IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA events FROM PUBLIC;
-- event_store_row_check calls it with the inserting role's privileges: whoever may INSERT a row (the owner, an ETL
-- role, leadboost_app after the troubleshooting grants) must be able to run it, or a bad row would be refused with
-- 42501 instead of 23514. It is a pure test of its arguments, reads nothing, and is not part of the API.
GRANT EXECUTE ON FUNCTION events.event_store_row_is_valid(text, text, text, jsonb, jsonb) TO PUBLIC;
GRANT USAGE ON SCHEMA events TO leadboost_app;
GRANT SELECT ON events.event_store, events.snapshots, events.stream_summary TO leadboost_app;
GRANT EXECUTE ON FUNCTION events.append_event(uuid, text, text, text, jsonb, bigint, jsonb, uuid, timestamptz),
                          events.rehydrate(uuid, text, bigint),
                          events.replay_stream(uuid, text, bigint),
                          events.create_snapshot(uuid, text, bigint),
                          events.apply_event(jsonb, text, jsonb) TO leadboost_app;

RESET statement_timeout;
RESET lock_timeout;
