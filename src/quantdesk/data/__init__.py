"""Market data: bar files, synthetic data, quality checks."""
