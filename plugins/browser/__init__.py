"""Web browser history: record types ``browser/...``."""
