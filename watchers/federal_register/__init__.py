"""Federal Register: its spec, settings, watcher and parsers."""
