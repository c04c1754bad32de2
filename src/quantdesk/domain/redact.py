"""Secrets never leave the process: payloads for the audit log, Redis and the WebSocket are
copied with secret-looking keys masked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

_SECRET_KEY = re.compile(r"(key|token|secret|password|passwd|authorization)", re.IGNORECASE)


def redact(payload: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if _SECRET_KEY.search(key):
            out[key] = "****"
        elif isinstance(value, Mapping):
            out[key] = redact(value)
        else:
            out[key] = jsonable(value)
    return out


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
