"""Order management: idempotent submission, retries, UNKNOWN resolution, brackets."""
