"""Tests of the check kinds (casebank.check)."""
