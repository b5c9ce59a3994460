-- Stand-in iam schema: just the tenants table the tenant factory needs.
CREATE SCHEMA iam;
CREATE TABLE iam.tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'ACTIVE',
    created_at timestamptz NOT NULL DEFAULT now()
);
DO $$
BEGIN
    RAISE NOTICE 'iam ready';
END
$$;
