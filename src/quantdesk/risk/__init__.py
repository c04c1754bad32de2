"""Pre-trade gates and sizing. The full risk engine arrives with the risk issue."""
