"""Persistence: SQLAlchemy models, migrations and the audit journal."""
