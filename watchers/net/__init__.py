"""Shared HTTP: the client, pacing, budgets, deadlines, response checks and shared reads."""
