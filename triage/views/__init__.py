"""Read-only queries behind the commands: listings, findings, exports."""
