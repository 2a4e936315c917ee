"""Benchmarks: `make bench-discussion` and friends; not part of the test suite."""
