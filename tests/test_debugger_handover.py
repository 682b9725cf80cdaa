"""The hand-over between the engine and its debugging tools (engine.py, "the debugging tools
plug in here"): ``autograd_lite.debugging`` installs itself with ``engine.use_debugger``;
without it the engine runs alone and what needs the tools says what to import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from autograd_lite import Value
from autograd_lite.engine import NoDebugger, use_debugger


@pytest.fixture
def without_debugger() -> Iterator[None]:
    """The engine with no debugging tools, for one test; the package's are put back after."""
    previous = use_debugger(NoDebugger())
    try:
        yield
    finally:
        use_debugger(previous)


def test_importing_the_package_hands_the_debugging_module_to_the_engine():
    # A fresh interpreter, whatever this test run imported before: the engine's module is
    # imported first, and stepping and hooks work (the package's __init__ brought the tools).
    script = textwrap.dedent(
        """
        import autograd_lite.engine as engine
        from autograd_lite import debugging
        x = engine.Value(3.0, label="x")
        y = x * x
        seen = []
        x.register_hook(lambda node: seen.append(node.grad))
        print([step.input_grad for step in y.backward_steps()], seen)
        previous = engine.use_debugger(engine.NoDebugger())
        print(previous is debugging)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[3.0, 6.0] [6.0]", "True"]  # d(x²)/dx = 2x = 6


@pytest.mark.usefixtures("without_debugger")
def test_without_the_tools_backward_works_and_the_rest_names_what_to_import():
    w = Value(-3.0, label="w")
    y = w * w + w
    y.backward()
    assert w.grad == -5.0  # by hand: 2w + 1
    advice = r"import autograd_lite\.debugging \(import autograd_lite does\)"
    attempts = {
        "backward_steps": lambda: y.backward_steps(),
        "register_hook": lambda: w.register_hook(print),
        r"backward\(break_on=\.\.\., on_break=\.\.\.\)": lambda: y.backward(break_on="w"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(RuntimeError, match=f"^{what} needs the debugging tools, .*{advice}$"):
            attempt()
    assert w.grad == -5.0  # nothing ran


def test_use_debugger_refuses_what_lacks_the_engines_calls_and_keeps_the_one_it_had():
    class Partial:  # watching() only
        def watching(self) -> bool:
            return True

    for wrong in (None, 3, Partial(), print):
        with pytest.raises(TypeError, match=r"^use_debugger: debugger must have callable "
                           r"watching, backward, backward_steps, register_hook \(engine\.Debugger\)"
                           rf", got {type(wrong).__name__} "):  # fmt: skip
            use_debugger(wrong)
    x = Value(2.0, label="x")
    assert [step.input_grad for step in (x * 3.0).backward_steps()] == [3.0]  # still there


def test_the_engine_asks_a_debugger_only_what_the_protocol_says():
    calls = []

    class Recording:
        def watching(self) -> bool:
            calls.append("watching")
            return True  # so backward() hands the pass over

        def backward(self, root, seed, break_on, on_break) -> None:
            calls.append(("backward", root, seed, break_on, on_break))

        def backward_steps(self, root, seed, show_constants) -> Iterator[object]:
            calls.append(("backward_steps", root, seed, show_constants))
            return iter(())

        def register_hook(self, node, hook) -> str:
            calls.append(("register_hook", node, hook))
            return "handle"

    x = Value(2.0, label="x")
    y = x * x
    previous = use_debugger(Recording())
    try:
        y.backward(2.0)
        list(y.backward_steps(0.5, show_constants=True))
        assert x.register_hook(print) == "handle"
    finally:
        use_debugger(previous)
    assert calls == [
        "watching",
        ("backward", y, 2.0, None, None),
        ("backward_steps", y, 0.5, True),
        ("register_hook", x, print),
    ]
    assert x.grad == 0.0  # the recording debugger ran no pass
