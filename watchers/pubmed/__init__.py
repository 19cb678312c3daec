"""PubMed: its spec, settings, watcher and parsers."""
