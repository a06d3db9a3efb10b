"""Rendered files read and made with ffmpeg and Pillow: probes, previews, the contact sheet, assets."""
