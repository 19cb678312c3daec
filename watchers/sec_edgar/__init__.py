"""SEC EDGAR filings: its spec, settings, watcher and parsers."""
