"""Read-only queries behind the commands: listings, findings, exports, and the views over one
schema of messages, calls and contacts (chats, calls, contacts, timeline, links)."""
