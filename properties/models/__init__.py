"""Reference models: plain Python, one module per domain, short enough to read as the specification."""
