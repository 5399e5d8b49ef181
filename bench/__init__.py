"""Benchmarks: `./run bench` runs them all on this machine and prints figures for docs/benchmarks.md."""
