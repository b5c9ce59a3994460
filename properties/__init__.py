"""Hypothesis properties proving the schema's invariants against a live server, many of them concurrent."""
