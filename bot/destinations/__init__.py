"""Where alerts go: one module per destination, one outbox flush loop."""
