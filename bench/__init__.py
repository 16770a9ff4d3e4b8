"""Benchmark scripts that print figures (not tests)."""
