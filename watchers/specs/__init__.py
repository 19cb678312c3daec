"""Each source's spec, apart from its watcher's fetch code (watchers/registry.py lists them).

A spec's `build` imports its watcher only when the watcher is built to poll, so reading stored
state (`trialwatch status`) loads no HTTP or feed-parsing code (tests/bot/test_fast_start.py).
"""
