"""Shared matching and text helpers: names in text, plain text, URLs, claims, identities."""
