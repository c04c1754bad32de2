"""quantdesk: one deterministic event-driven trading desk for backtest, paper and live."""

__version__ = "0.1.0"
