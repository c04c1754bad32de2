"""Runners wire a desk to a clock and a data source: backtest, replay, paper."""
