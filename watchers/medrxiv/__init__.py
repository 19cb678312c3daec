"""medRxiv: its spec, settings, watcher and parsers."""
