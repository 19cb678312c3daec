"""What `status`, `/status` and the dashboard show, read from stored state only."""
