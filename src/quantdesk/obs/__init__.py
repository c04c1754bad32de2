"""Observability: metrics, event streams, alerts, fan-out of bus events."""
