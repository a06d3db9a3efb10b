"""What a video's code is checked for before it renders: imports, constraints, diagnostics, layout."""
