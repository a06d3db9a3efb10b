"""`import vidgen` gives the public API, each name loaded on first use."""

from __future__ import annotations

import subprocess
import sys

import vidgen


def test_every_exported_name_resolves() -> None:
    for name in vidgen.__all__:
        assert getattr(vidgen, name) is not None, name
    from vidgen import errors

    assert set(vidgen.__all__) == {"__version__", *vidgen._EXPORTS} | {n for n in vars(errors) if n in vidgen.__all__}


def test_importing_vidgen_imports_nothing_but_its_errors() -> None:
    code = "import sys, vidgen; print(' '.join(sorted(m for m in sys.modules if m.startswith('vidgen'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["vidgen", "vidgen.errors"]


def test_the_exported_errors_are_the_ones_raised() -> None:
    from vidgen.errors import UsageError
    from vidgen.model.providers import Provider

    assert vidgen.UsageError is UsageError and vidgen.Provider is Provider
    assert issubclass(vidgen.ModelError, vidgen.VidgenError)
