"""Each source's spec, apart from its watcher's fetch code (watchers/registry.py lists them)."""
