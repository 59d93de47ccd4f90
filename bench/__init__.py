"""Benchmarks that print their figures; each ends with a `RESULT name=value ...` line."""
