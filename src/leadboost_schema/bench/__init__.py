"""Benchmark tooling: datasets, paired in-run measurements, client pools and the ratio report."""
