"""Google News's source id and the constants its spec and its watcher share."""

from __future__ import annotations

SOURCE = "google_news"
