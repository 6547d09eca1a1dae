"""Messages, calls and contacts: record types ``chat/...``."""
