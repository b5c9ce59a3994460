"""Databases on a server: migrated templates built once per schema hash, per-test clones, and the psql-compatible runner that applies the SQL files."""
