"""openFDA Drugs@FDA: its spec, settings, watcher and parsers."""
