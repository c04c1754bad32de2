"""Venue adapters behind one protocol (`venues.base.Venue`)."""
