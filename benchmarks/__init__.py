"""Speed and latency benchmarks (run by scripts/bench; not part of the test suite)."""
