"""Adapters for the frameworks people build with (each behind its own extra)."""
