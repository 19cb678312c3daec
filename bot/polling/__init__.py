"""Polling: the watchers the config enables, wrapped (stop, redaction), polled and stored."""
