"""Triage in Slack: buttons on alerts, clicks into the ledger, snooze and mute at delivery."""
