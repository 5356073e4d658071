"""Benchmarks: scripts that print a table and write JSON (`python -m benchmarks.<name>`);
`python -m benchmarks` runs them all and prints one summary table."""
