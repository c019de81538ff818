"""What the benchmarks share: a database of their own, Django pointed at it, load generation."""
