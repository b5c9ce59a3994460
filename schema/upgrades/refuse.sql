-- refuse.sql — stops 000_master_migration.sql with the error in psql variables lb_refusal_code and
-- lb_refusal (set by the includer); nothing after it runs, and nothing was changed before it.
SELECT set_config('leadboost.refusal', :'lb_refusal', false) AS lb_ignored,
       set_config('leadboost.refusal_code', :'lb_refusal_code', false) AS lb_ignored_code
\gset
DO $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = current_setting('leadboost.refusal_code'),
                          MESSAGE = current_setting('leadboost.refusal'),
                          HINT = 'leadboost-schema status --dsn ... lists the database''s history and drift';
END
$$;
