"""Debugger tools: hooks, backward(break_on=...) with a function and with pdb, named derivative
rules. Each must fire where it should and nowhere else."""

from __future__ import annotations

import math
import sys
import textwrap

import pexpect
import pytest

from autograd_lite import Value
from autograd_lite.engine import DERIVATIVES
from autograd_lite.stepping import backprop_example


def small_graph():
    """h = tanh(x) feeds two nodes; y = h*h + h. By hand: ∂y/∂h = 2h + 1, ∂y/∂x = (2h+1)(1-h²)."""
    x = Value(0.5, "x")
    h = x.tanh()
    h.label = "h"
    hh = h * h
    hh.label = "hh"
    y = hh + h
    y.label = "y"
    return x, h, hh, y


# --- hooks ----------------------------------------------------------------------------------


def test_hook_sees_the_complete_gradient_once_per_pass():
    x, h, hh, y = small_graph()
    seen = []
    h.register_hook(lambda node: seen.append((node, node.grad)))
    y.backward()
    assert seen == [(h, pytest.approx(2 * h.data + 1))]
    y.backward()  # a second pass: called again (h's grad is overwritten, not accumulated)
    assert len(seen) == 2 and seen[1][1] == pytest.approx(2 * h.data + 1)


def test_hooks_fire_before_the_node_passes_blame_down_and_on_leaves():
    x, h, hh, y = small_graph()
    events = []
    for node in (x, h, hh, y):
        node.register_hook(lambda node: events.append(("hook", node.label)))
    for step in y.backward_steps():
        events.append(("step", step.node.label))
    hooks = [label for kind, label in events if kind == "hook"]
    assert hooks == ["y", "hh", "h", "x"]  # every node, output first
    for label in ("y", "hh", "h"):  # each hook runs before its node's first step
        assert events.index(("hook", label)) < events.index(("step", label))
    assert events[-1] == ("hook", "x")  # a leaf is complete after the last step into it
    assert x.grad == pytest.approx((2 * h.data + 1) * (1 - h.data**2))


def test_removed_hooks_and_hooks_outside_the_graph_never_fire():
    x, h, hh, y = small_graph()
    calls = []
    handle = h.register_hook(lambda node: calls.append("removed"))
    Value(3.0, "stranger").register_hook(lambda node: calls.append("stranger"))
    handle.remove()
    handle.remove()  # twice is harmless
    y.backward()
    assert calls == []


def test_stopping_early_calls_only_the_hooks_of_nodes_reached():
    x, h, hh, y = small_graph()
    calls = []
    for node in (h, x):
        node.register_hook(lambda node: calls.append(node.label))
    steps = y.backward_steps()
    next(steps)  # y → hh only
    assert calls == []


def test_register_hook_rejects_what_cannot_be_called():
    x = Value(1.0, "x")
    with pytest.raises(TypeError, match="register_hook: hook must be callable, got int 3"):
        x.register_hook(3)
    (x * 2).backward()  # no hook was left behind
    assert x.grad == 2.0


# --- break_on with a function ---------------------------------------------------------------


def test_break_on_a_predicate_stops_right_before_the_matching_steps():
    example = backprop_example()
    stops = []

    def record(step):  # the input's gradient is not changed yet
        stops.append((step.number, step.input.label, step.input.grad, step.contribution))

    example.error.backward(
        break_on=lambda step: step.input.label.endswith(".b"), on_break=record
    )  # fmt: skip
    assert [label for _, label, _, _ in stops] == ["L1.n1.b", "L1.n0.b", "L0.n1.b", "L0.n0.b"]
    assert all(before == 0.0 for _, _, before, _ in stops)
    biases = {p.label: p.grad for p in example.model.parameters() if p.label.endswith(".b")}
    assert {label: c for _, label, _, c in stops} == biases  # then the step was applied


def test_break_on_a_value_or_a_label_matches_steps_into_and_out_of_it():
    for break_on in ("h", None):
        x, h, hh, y = small_graph()
        stops = []
        y.backward(break_on=break_on or h, on_break=stops.append)
        pairs = [(s.node.label, s.input.label) for s in stops]
        assert pairs == [("y", "h"), ("hh", "h"), ("hh", "h"), ("h", "x")]  # backward's order
        assert x.grad == pytest.approx((2 * h.data + 1) * (1 - h.data**2))


def test_break_on_that_never_matches_stops_nowhere_and_changes_nothing():
    example, plain = backprop_example(), backprop_example()
    stops = []
    example.error.backward(break_on=lambda step: False, on_break=stops.append)
    plain.error.backward()
    assert stops == []
    for p, q in zip(example.model.parameters(), plain.model.parameters()):
        assert p.grad == q.grad


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"break_on": 3.5}, TypeError, "backward: break_on must be a Value, a label"),
        ({"break_on": ""}, ValueError, "break_on must be a non-empty label, got ''"),
        ({"break_on": "x", "on_break": "pdb"}, TypeError, "backward: on_break must be callable"),
        ({"on_break": print}, ValueError, "backward: on_break needs break_on"),
    ],
)
def test_bad_break_on_arguments_fail_before_any_gradient_changes(kwargs, error, message):
    x, h, hh, y = small_graph()
    x.grad = 4.0
    with pytest.raises(error, match=message):
        y.backward(**kwargs)
    assert (x.grad, h.grad, hh.grad, y.grad) == (4.0, 0.0, 0.0, 0.0)


PDB_SCRIPT = textwrap.dedent(
    """
    from autograd_lite import Value
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    y.backward(break_on="x")
    print("done", x.grad)
    """
)


def test_break_on_opens_pdb_with_the_step_in_scope(tmp_path):
    script = tmp_path / "stop.py"
    script.write_text(PDB_SCRIPT)
    child = pexpect.spawn(sys.executable, [str(script)], encoding="utf-8", timeout=30)
    try:
        child.expect("stopped before step 0")
        child.expect(r"\(Pdb\) ")
        assert "input_.grad += contribution" in child.before  # the line that applies it
        child.sendline("p step.node.label, step.input.label, step.contribution, step.input.grad")
        child.expect(r"\(Pdb\) ")
        assert "('y', 'x', 3.0, 0.0)" in child.before  # not applied yet
        child.sendline("c")
        child.expect("stopped before step 1")  # x is y's input twice
        child.expect(r"\(Pdb\) ")
        child.sendline("p step.input.grad")
        child.expect(r"\(Pdb\) ")
        assert "3.0" in child.before
        child.sendline("c")
        child.expect("done 6.0")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


# --- derivative rules -----------------------------------------------------------------------


def test_derivative_rules_are_named_functions_a_debugger_steps_into():
    for op, rule in DERIVATIVES.items():
        assert callable(rule) and rule.__name__.endswith("_rule"), op
    assert Value.sigmoid_rule is DERIVATIVES["sigmoid"]
    entered = []

    def tracer(frame, event, arg):
        if event == "call":
            entered.append(frame.f_code.co_name)

    sys.settrace(tracer)
    try:
        Value(2.0) * Value(3.0)
        Value(0.5).sigmoid()
    finally:
        sys.settrace(None)
    assert "mul_rule" in entered and "sigmoid_rule" in entered
    s = 1 / (1 + math.exp(-0.5))
    assert DERIVATIVES["sigmoid"](0.5, s) == pytest.approx((s * (1 - s),))  # σ(1 − σ)


def test_break_on_a_label_or_value_not_in_the_graph_is_an_error_before_any_change():
    x, h, hh, y = small_graph()
    elsewhere = Value(1.0, label="elsewhere")
    y.backward()
    before = [v.grad for v in (x, h, hh, y)]
    with pytest.raises(ValueError, match=r"break_on='no-such-label' is not a label in the graph; "
                       r"its labels are: .*\bx\b"):  # fmt: skip
        y.backward(break_on="no-such-label", on_break=print)
    with pytest.raises(
        ValueError, match=r"break_on=Value\(label='elsewhere'.* is not in the graph"
    ):
        y.backward(break_on=elsewhere, on_break=print)
    assert [v.grad for v in (x, h, hh, y)] == before  # nothing changed, not even x's
