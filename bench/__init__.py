"""Benchmarks: figures printed with a ratio to a baseline measured in the same run."""
