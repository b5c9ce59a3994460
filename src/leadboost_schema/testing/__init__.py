"""Tools for proving the schema: interleavings of sessions, Hypothesis strategies and profiles, factories, invariants, fingerprints, the public API as data."""
