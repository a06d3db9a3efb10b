"""`python -m vidgen`."""

from .cli import run

run()
