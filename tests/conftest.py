"""Fixtures several test modules share."""

from __future__ import annotations

import pytest
from helpers import needs_extra

from autograd_lite.program.c_backend import find_compiler


@pytest.fixture(params=["python", "numpy", "c"])
def backend(request) -> str:
    """Each replay backend in turn; numpy and c skip, saying why, where they cannot run."""
    if request.param == "numpy":
        needs_extra("numpy")
    if request.param == "c" and find_compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang) on the PATH: the c backend cannot build")
    return request.param
