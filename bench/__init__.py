"""Benchmarks of the platform against its baselines (``python -m bench.run``)."""
