"""Benchmarks (not tests): ``python -m bench`` prints the kernel speed table."""
