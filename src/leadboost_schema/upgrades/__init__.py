"""The versioned history of the schema: upgrade files after release 1.0.0, the version table, adoption of
databases built before it, status, and the files 000_master_migration.sql runs them with (schema/README.md,
"Changing the schema")."""
