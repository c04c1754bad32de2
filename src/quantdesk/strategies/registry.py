"""Built-in strategies by name, with typed parameters from `--param k=v` strings."""

from __future__ import annotations

from pydantic import ValidationError

from quantdesk.strategies.base import Strategy
from quantdesk.strategies.intraday_breakout import IntradayBreakout
from quantdesk.strategies.sma_cross import SmaCross

STRATEGIES: dict[str, type[Strategy]] = {s.name: s for s in (SmaCross, IntradayBreakout)}


class StrategyError(ValueError):
    """Unknown strategy or invalid parameters; the message says which."""


def register(cls: type[Strategy]) -> type[Strategy]:
    STRATEGIES[cls.name] = cls
    return cls


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StrategyError(f"--param {pair!r}: expected key=value")
        params[key.strip()] = value.strip()
    return params


def build_strategy(name: str, symbol: str, params: dict[str, str] | None = None) -> Strategy:
    cls = STRATEGIES.get(name)
    if cls is None:
        known = ", ".join(sorted(STRATEGIES))
        raise StrategyError(f"unknown strategy {name!r} (known: {known})")
    try:
        typed = cls.Params(**(params or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()
        )
        raise StrategyError(f"{name}: {problems}") from None
    return cls(symbol, typed)
