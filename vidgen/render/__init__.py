"""Rendering one video: the validation ladder, the render, its verification and the retry of faults."""
