"""Sources -> Observations: fetch each source over HTTP and parse its answer into value types."""
