"""`quantdesk` sub-commands, one module per group."""
