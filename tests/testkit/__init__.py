"""Builders shared by every test: orders in a given state, fills, instruments."""
