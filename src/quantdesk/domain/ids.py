"""Deterministic identifiers: the same decision always yields the same ids.

A retry or a restart recomputes the id instead of minting a new one, so a venue that
already holds the order recognises it and a second live order can never appear.
"""

from __future__ import annotations

import hashlib

# Upstox order tags allow 20 characters; every venue we target accepts at least that.
CLIENT_ORDER_ID_LENGTH = 20


def stable_id(*parts: object, length: int = 24) -> str:
    """Short digest of `parts`: lower-case hex, at most 64 characters."""
    text = "\x1f".join(map(str, parts))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def plan_id(*keys: str | int) -> str:
    """Idempotency key of one trading decision: one signal, one plan. The keys are the
    signal's ([scope,] strategy, symbol, ts, side)."""
    return "p" + stable_id(*keys, length=23)


def client_order_id(plan: str, leg: str) -> str:
    """Order id from plan id + leg (`entry`, `stop`, `tp1`, `tp2`, `exit`, ...)."""
    return "q" + stable_id(plan, leg, length=CLIENT_ORDER_ID_LENGTH - 1)


def trade_id(symbol: str, opened_ts: int, first_fill_id: str) -> str:
    """Round-trip id, known from its first fill so the trade can be recorded while open."""
    return "t" + stable_id(symbol, opened_ts, first_fill_id, length=23)
