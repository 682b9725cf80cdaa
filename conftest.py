"""What the whole test run shares: optional extras' doctests, and CI's rule that nothing skips.

A test that needs an optional extra (torch, scikit-learn, ...) or a tool (chromium, dot, cc,
node) skips with a one-line reason where it is missing, so the README's test command passes with
only ``.[dev]`` installed. CI installs everything and sets AUTOGRAD_LITE_NO_SKIPS=1: there a
skipped test is a failure, so a missing install step cannot hide behind a green run.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

# Doctests that need an optional extra: the doctest's name (a prefix) -> (module, extra).
DOCTESTS_NEEDING = {
    "autograd_lite.torch_bridge": ("torch", "torch"),
    "autograd_lite.nn.data.digits": ("sklearn", "datasets"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for prefix, (module, extra) in DOCTESTS_NEEDING.items():
            if item.name.startswith(prefix) and importlib.util.find_spec(module) is None:
                reason = f'needs the {extra} extra: pip install ".[{extra}]"'
                item.add_marker(pytest.mark.skip(reason=reason))


NO_SKIPS = os.environ.get("AUTOGRAD_LITE_NO_SKIPS") == "1"
SKIPPED: list[str] = []


def _note_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        SKIPPED.append(f"{report.nodeid}: {reason}")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note_skip(report)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note_skip(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if SKIPPED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    if SKIPPED:
        terminalreporter.section("skipped, but AUTOGRAD_LITE_NO_SKIPS=1 (CI installs everything)")
        for line in SKIPPED:
            terminalreporter.write_line(line)
