"""Block Kit builders: plain functions from data to dicts, one module per surface."""
