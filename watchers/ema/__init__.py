"""EMA medicines data: its spec, settings, watcher and parsers."""
