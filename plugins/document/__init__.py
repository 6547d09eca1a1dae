"""Documents: author, dates and application of office files and PDFs; record types ``document/...``."""
