"""RSS feed: its spec, settings, watcher and parsers."""
