"""The deterministic event core shared by backtest, replay, paper and live."""
