"""Checks: the kinds of expectation a case can state, one module per kind."""
