"""Alembic migrations of the trialwatch schema (applied at start-up by state.migrate)."""
