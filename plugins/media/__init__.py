"""Photos and videos: record types ``media/...``."""
