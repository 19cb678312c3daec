"""EU CTIS: its spec, settings, watcher and parsers."""
