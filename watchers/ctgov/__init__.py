"""ClinicalTrials.gov: its spec, settings, watcher and parsers."""
