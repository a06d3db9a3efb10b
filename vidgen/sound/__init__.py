"""Narration, voices and music under a video."""
