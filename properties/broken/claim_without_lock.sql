-- BROKEN on purpose (properties/test_request_keys.py): a claim that reads the key without locking it, decides,
-- then writes. Two sessions can both read "FAILED" (or "absent") and both take the key over.
CREATE OR REPLACE FUNCTION broken.claim_request_key(
    p_tenant_id uuid,
    p_idempotency_key text,
    p_payload jsonb,
    p_lease interval DEFAULT interval '5 minutes',
    p_ttl interval DEFAULT interval '24 hours',
    p_now timestamptz DEFAULT now())
RETURNS TABLE (outcome text, lock_token uuid, status text, response jsonb, attempts integer)
LANGUAGE plpgsql
AS $$
DECLARE
    hash text := sys.payload_hash(p_payload);
    token uuid := gen_random_uuid();
    k sys.request_keys%ROWTYPE;
BEGIN
    SELECT * INTO k FROM sys.request_keys AS r
     WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key;  -- no FOR UPDATE
    IF NOT FOUND OR k.expires_at <= p_now THEN
        INSERT INTO sys.request_keys AS r (tenant_id, idempotency_key, payload_hash, status, lock_token,
                                           locked_at, lease_expires_at, attempts, created_at, expires_at)
        VALUES (p_tenant_id, p_idempotency_key, hash, 'PROCESSING', token, p_now, p_now + p_lease, 1, p_now,
                p_now + p_ttl)
        ON CONFLICT (tenant_id, idempotency_key) DO UPDATE
           SET payload_hash = excluded.payload_hash, status = 'PROCESSING', response = NULL, error = NULL,
               lock_token = excluded.lock_token, locked_at = excluded.locked_at,
               lease_expires_at = excluded.lease_expires_at, attempts = 1, created_at = excluded.created_at,
               completed_at = NULL, expires_at = excluded.expires_at;
        RETURN QUERY SELECT 'CLAIMED'::text, token, 'PROCESSING'::text, NULL::jsonb, 1;
        RETURN;
    END IF;
    IF k.payload_hash <> hash THEN
        RAISE EXCEPTION USING ERRCODE = 'LB401',
            MESSAGE = format('idempotency key %L was used with a different payload', p_idempotency_key);
    END IF;
    IF k.status = 'COMPLETED' THEN
        RETURN QUERY SELECT 'COMPLETED'::text, NULL::uuid, k.status, k.response, k.attempts;
        RETURN;
    END IF;
    IF k.status = 'PROCESSING' AND k.lease_expires_at > p_now THEN
        RETURN QUERY SELECT 'IN_PROGRESS'::text, NULL::uuid, k.status, NULL::jsonb, k.attempts;
        RETURN;
    END IF;
    UPDATE sys.request_keys AS r
       SET status = 'PROCESSING', error = NULL, lock_token = token, locked_at = p_now,
           lease_expires_at = p_now + p_lease, attempts = k.attempts + 1, completed_at = NULL
     WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key;
    RETURN QUERY SELECT 'RECLAIMED'::text, token, 'PROCESSING'::text, NULL::jsonb, k.attempts + 1;
END
$$;
