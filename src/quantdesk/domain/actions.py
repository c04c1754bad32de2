"""Names of audited actions that something reads back (restart recovery, the API)."""

RISK_STATE = "risk.state"  # RiskControls.memory() after every trading-state change
EOD_SQUARE_OFF = "eod.square_off"
