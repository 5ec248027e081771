"""Entry points, paper configurations and benchmarks."""
