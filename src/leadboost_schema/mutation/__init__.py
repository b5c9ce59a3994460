"""Mutation testing of the schema: mutants derived from schema/*.sql, each run against the tests that exercise the
mutated object, reported as killed / survived / equivalent per schema file (docs/mutation.md)."""
