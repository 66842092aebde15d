"""Benchmarks: datastores side by side with pybotters 1.11.2 and plain baselines.

Run ``scripts/bench`` (or ``python -m benchmarks``). Results: docs/performance.md.
"""
