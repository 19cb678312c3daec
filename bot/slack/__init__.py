"""Everything Slack: delivery (Block Kit, threads), triage buttons, commands, the status card."""
