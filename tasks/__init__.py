"""Units of work, Prefect-free first (decode, find, track, score, write, queue, redact)."""
