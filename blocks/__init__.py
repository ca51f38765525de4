"""Pure functions from domain values to Block Kit. No I/O here."""
