"""Curated facts with citations, and the reference concept schemes (package data)."""
