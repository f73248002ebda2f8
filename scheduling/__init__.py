"""Periodic work. The database is the source of truth; jobs only sweep it."""
