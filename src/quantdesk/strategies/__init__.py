"""Strategies: the base API and the built-ins, looked up by name in `registry`."""
