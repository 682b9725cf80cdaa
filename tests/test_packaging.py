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


def test_the_wheel_installs_one_top_level_package(tmp_path):
    """visualize/ ships inside the package, as autograd_lite.visualize: a top-level
    `visualize` would clash with PyPI's package of that name."""
    import shutil
    import subprocess
    import sys
    import zipfile

    source = tmp_path / "source"  # a copy: the build leaves build/ and *.egg-info behind
    keep = shutil.ignore_patterns(".git", ".*venv*", "build", "*.egg-info", "__pycache__")
    shutil.copytree(PYPROJECT.parent, source, symlinks=True, ignore=keep)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("autograd_lite-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"autograd_lite"}
    assert "autograd_lite/visualize/page/page.js" in names
    assert "autograd_lite/visualize/py.typed" in names
