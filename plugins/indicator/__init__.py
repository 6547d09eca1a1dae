"""Indicators found in records: record types ``indicator/...`` (identifiers validated by their standards)."""
