"""Rendering beyond this machine: Remotion Lambda, deployed with Remotion's own CLI, driven by its Python client."""
