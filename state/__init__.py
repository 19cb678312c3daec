"""State: the only code that touches the database; pure diff of observations."""
