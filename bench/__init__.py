"""Benchmarks of the pipeline at scale (a script, not tests): see docs/performance.md."""
