"""What the package ships besides code."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_packages_ship_their_type_hints():
    """py.typed (PEP 561) is there and declared as package data, so type checkers read our
    hints from an installed copy."""
    package_data = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]
    for package in ("autograd_lite", "autograd_lite.visualize"):
        assert files(package).joinpath("py.typed").is_file()
        assert "py.typed" in package_data[package]


def test_the_notebook_needs_are_in_the_dev_extra():
    dev = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["dev"]
    names = {requirement.split(">")[0].split("=")[0] for requirement in dev}
    assert {"nbformat", "nbclient", "ipykernel"} <= names
