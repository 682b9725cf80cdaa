"""Fixtures several test modules share."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CHROMIUM, CHROMIUM_FLAGS, needs_extra

from autograd_lite.program.c_backend import find_compiler


@pytest.fixture(params=["python", "numpy", "c"])
def backend(request) -> str:
    """Each replay backend in turn; numpy and c skip, saying why, where they cannot run."""
    if request.param == "numpy":
        needs_extra("numpy")
    if request.param == "c" and find_compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang) on the PATH: the c backend cannot build")
    return request.param


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Playwright; skips, saying why, without either."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
