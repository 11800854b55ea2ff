"""What the tests and the benchmarks run against: real server processes and empty databases."""
