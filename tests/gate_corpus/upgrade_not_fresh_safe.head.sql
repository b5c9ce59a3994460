-- head file: 007_schema_migration.sql
CREATE INDEX IF NOT EXISTS raw_signals_signal_type_idx ON migration.raw_signals (tenant_id, signal_type);
