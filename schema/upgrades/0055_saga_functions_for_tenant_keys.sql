-- 0055_saga_functions_for_tenant_keys.sql — the expand step of 0061's key swap (issue 12: the previous release's
-- calls keep working while the saga keys change): the internal sys.saga_report and sys.assert_earlier_steps_succeeded
-- get overloads that take the tenant, and the saga report functions and sys.active_sagas get the bodies 0061 used to
-- install, which look sagas and steps up by (tenant_id, id): right under the 1.0.0 keys (id) and under 0061's
-- (tenant_id, id). The old overloads stay until 0061 drops them: 1.0.0's report bodies call them, and a call waiting
-- on 0061's lock would resume after the drop and fail with 42883. 0060's CREATE INDEX CONCURRENTLY, between this
-- file and 0061, waits for every transaction older than its snapshot, so no call still running a 1.0.0 body
-- reaches 0061.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — nothing to undo that 0061 does not build on (the old overloads are kept; the bodies answer as before)
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE OR REPLACE FUNCTION sys.assert_earlier_steps_succeeded(p_tenant_id uuid, p_saga_id uuid, p_step_index integer)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    blocking integer;
BEGIN
    SELECT min(x.step_index) INTO blocking FROM sys.saga_steps AS x
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index < p_step_index
       AND x.status <> 'SUCCEEDED';
    IF blocking IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB504',
            MESSAGE = format('saga %s: step %s reported before step %s succeeded', p_saga_id, p_step_index, blocking);
    END IF;
END
$$;
COMMENT ON FUNCTION sys.assert_earlier_steps_succeeded(uuid, uuid, integer) IS 'Internal: raises LB504 when a step before p_step_index has not succeeded.';

CREATE OR REPLACE FUNCTION sys.saga_report(p_tenant_id uuid, p_saga_id uuid, p_applied boolean, p_step_index integer)
RETURNS TABLE (applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_applied,
           s.state,
           (SELECT st.status FROM sys.saga_steps AS st
             WHERE st.tenant_id = s.tenant_id AND st.saga_id = s.id AND st.step_index = p_step_index),
           (SELECT min(st.step_index) FROM sys.saga_steps AS st
             WHERE st.tenant_id = s.tenant_id AND st.saga_id = s.id AND st.status = 'PENDING' AND s.state = 'RUNNING'),
           (SELECT max(st.step_index) FROM sys.saga_steps AS st
             WHERE st.tenant_id = s.tenant_id AND st.saga_id = s.id AND st.status = 'SUCCEEDED' AND s.state = 'COMPENSATING')
      FROM sys.sagas AS s WHERE s.tenant_id = p_tenant_id AND s.id = p_saga_id
$$;
COMMENT ON FUNCTION sys.saga_report(uuid, uuid, boolean, integer) IS 'Internal: the row every saga report function returns.';

CREATE OR REPLACE FUNCTION sys.record_step_success(
    p_tenant_id uuid,
    p_saga_id uuid,
    p_step_index integer,
    p_result jsonb DEFAULT NULL)
RETURNS TABLE (applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s sys.sagas%ROWTYPE;
    st sys.saga_steps%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id, false);  -- the tenant before the other arguments (README order)
    IF p_result IS NOT NULL THEN
        PERFORM iam.assert_json_argument('p_result', p_result);
    END IF;
    s := sys.lock_saga(p_tenant_id, p_saga_id, p_step_index);
    SELECT * INTO st FROM sys.saga_steps AS x WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    -- Duplicate or late (the saga moved on): harmless, nothing changes.
    IF s.state <> 'RUNNING' OR st.status <> 'PENDING' THEN
        RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, false, p_step_index);
        RETURN;
    END IF;
    PERFORM sys.assert_earlier_steps_succeeded(p_tenant_id, p_saga_id, p_step_index);
    UPDATE sys.saga_steps AS x SET status = 'SUCCEEDED', result = p_result, succeeded_at = clock_timestamp()
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    UPDATE sys.sagas AS sg
       SET state = CASE WHEN p_step_index = sg.step_count THEN 'COMPLETED' ELSE 'RUNNING' END,
           completed_at = CASE WHEN p_step_index = sg.step_count THEN clock_timestamp() END,
           updated_at = clock_timestamp()
     WHERE sg.tenant_id = p_tenant_id AND sg.id = p_saga_id;
    RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, true, p_step_index);
END
$$;
COMMENT ON FUNCTION sys.record_step_success(uuid, uuid, integer, jsonb) IS 'Reports that step p_step_index succeeded; the last step completes the saga. A duplicate or late report (step no longer PENDING, saga no longer RUNNING) changes nothing (applied = false). Raises LB001–LB003, LB006, LB501, LB504 (an earlier step has not succeeded), LB505.';

CREATE OR REPLACE FUNCTION sys.record_step_failure(
    p_tenant_id uuid,
    p_saga_id uuid,
    p_step_index integer,
    p_error text DEFAULT NULL)
RETURNS TABLE (applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s sys.sagas%ROWTYPE;
    st sys.saga_steps%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id, false);  -- the tenant before the other arguments (README order)
    IF p_error IS NOT NULL THEN
        PERFORM iam.assert_text_argument('p_error', p_error, 2000);
    END IF;
    s := sys.lock_saga(p_tenant_id, p_saga_id, p_step_index);
    SELECT * INTO st FROM sys.saga_steps AS x WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    IF s.state <> 'RUNNING' OR st.status <> 'PENDING' THEN
        RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, false, p_step_index);
        RETURN;
    END IF;
    PERFORM sys.assert_earlier_steps_succeeded(p_tenant_id, p_saga_id, p_step_index);
    UPDATE sys.saga_steps AS x SET status = 'FAILED', error = p_error, failed_at = clock_timestamp()
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    -- Steps 1..k-1 all succeeded: compensate them (k > 1), or there is nothing to undo (k = 1).
    UPDATE sys.sagas AS sg
       SET state = CASE WHEN p_step_index > 1 THEN 'COMPENSATING' ELSE 'FAILED' END,
           failed_step = p_step_index,
           failure_reason = p_error,
           completed_at = CASE WHEN p_step_index > 1 THEN NULL ELSE clock_timestamp() END,
           updated_at = clock_timestamp()
     WHERE sg.tenant_id = p_tenant_id AND sg.id = p_saga_id;
    RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, true, p_step_index);
END
$$;
COMMENT ON FUNCTION sys.record_step_failure(uuid, uuid, integer, text) IS 'Reports that step p_step_index failed: the saga moves to COMPENSATING (steps before it must be compensated, last first) or straight to FAILED when it is step 1. Duplicate or late reports change nothing (applied = false). Raises LB001–LB005, LB501, LB504, LB505.';

CREATE OR REPLACE FUNCTION sys.record_compensation_done(
    p_tenant_id uuid,
    p_saga_id uuid,
    p_step_index integer)
RETURNS TABLE (applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s sys.sagas%ROWTYPE;
    st sys.saga_steps%ROWTYPE;
    due integer;
BEGIN
    s := sys.lock_saga(p_tenant_id, p_saga_id, p_step_index);
    SELECT * INTO st FROM sys.saga_steps AS x WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    IF st.status = 'COMPENSATED' THEN
        RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, false, p_step_index);
        RETURN;
    END IF;
    IF s.state <> 'COMPENSATING' OR st.status <> 'SUCCEEDED' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB506',
            MESSAGE = format('saga %s is %s and step %s is %s: no compensation of it was requested',
                             p_saga_id, s.state, p_step_index, st.status);
    END IF;
    SELECT max(x.step_index) INTO due FROM sys.saga_steps AS x
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.status = 'SUCCEEDED';
    IF due <> p_step_index THEN
        RAISE EXCEPTION USING ERRCODE = 'LB507',
            MESSAGE = format('saga %s: step %s must be compensated before step %s', p_saga_id, due, p_step_index);
    END IF;
    UPDATE sys.saga_steps AS x SET status = 'COMPENSATED', compensated_at = clock_timestamp()
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    UPDATE sys.sagas AS sg
       SET state = CASE WHEN p_step_index = 1 THEN 'FAILED' ELSE 'COMPENSATING' END,
           completed_at = CASE WHEN p_step_index = 1 THEN clock_timestamp() END,
           updated_at = clock_timestamp()
     WHERE sg.tenant_id = p_tenant_id AND sg.id = p_saga_id;
    RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, true, p_step_index);
END
$$;
COMMENT ON FUNCTION sys.record_compensation_done(uuid, uuid, integer) IS 'Reports that the compensation of step p_step_index is done. Only the highest still-SUCCEEDED step may be compensated (LB507); after step 1 the saga is FAILED. A repeated report changes nothing (applied = false). Raises LB001–LB003, LB501, LB505, LB506 (nothing to compensate), LB507.';

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
     WHERE x.tenant_id = s.tenant_id AND x.saga_id = s.id
) AS st
WHERE s.state IN ('RUNNING', 'COMPENSATING');

REVOKE ALL ON FUNCTION sys.assert_earlier_steps_succeeded(uuid, uuid, integer),
                       sys.saga_report(uuid, uuid, boolean, integer) FROM PUBLIC;

RESET lock_timeout;
RESET statement_timeout;
