"""The workspace on disk: its videos, their state, history, kept renders and transcripts."""
