"""Shared test fixtures. Stage-specific fixtures live next to their tests."""
