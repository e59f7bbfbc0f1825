"""airspeed velocity benchmarks of jaxneuron (``asv run``; see docs/performance.md)."""
