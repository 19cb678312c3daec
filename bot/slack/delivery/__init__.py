"""Slack, native: Block Kit, threads, metadata, the history check after a crash."""
