"""Many videos from one batch file: its items, the run, its manifest and its report."""
