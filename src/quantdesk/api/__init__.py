"""Operator API: FastAPI app, security, websocket hub, dashboard; served beside the engine."""
