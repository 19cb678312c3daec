"""Google News: its spec, settings, watcher and parsers."""
