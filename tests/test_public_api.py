"""`import vidgen` gives the public API, each name loaded on first use."""

from __future__ import annotations

import subprocess
import sys

import vidgen


def test_every_exported_name_resolves() -> None:
    for name in vidgen.__all__:
        assert getattr(vidgen, name) is not None, name
    assert set(vidgen.__all__) == {"__version__", *vidgen._EXPORTS}


def test_importing_vidgen_imports_nothing_else() -> None:
    code = "import sys, vidgen; print(' '.join(sorted(m for m in sys.modules if m.startswith('vidgen'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["vidgen"]


def test_the_exported_errors_are_the_ones_raised() -> None:
    from vidgen.errors import UsageError
    from vidgen.model.providers import Provider

    assert vidgen.UsageError is UsageError and vidgen.Provider is Provider
    assert issubclass(vidgen.ModelError, vidgen.VidgenError)
