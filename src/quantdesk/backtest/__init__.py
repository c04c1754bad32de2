"""Backtest results: the report, its files and its equity chart."""
