"""Benchmarks, printed as counts and ratios: `make bench` (python -m bench)."""
