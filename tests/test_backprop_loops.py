"""The chain-rule loop, three ways (engine.py): ``backpropagate`` as a textbook writes it,
``backpropagate_fast`` (what ``backward()`` runs) and ``backpropagate_steps`` (the debugging
tools) give the same gradients bit for bit, on random graphs of every op with nodes used
several times, NaN and ±inf in the data, in the seed and in the gradients held before the
pass. The one difference, documented in ``backpropagate_fast``: the sign of a zero that a
leaf held before the pass."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite import Value, sum_values, weighted_sum
from autograd_lite.debugging import BackwardStep
from autograd_lite.engine import (
    DERIVATIVES,
    backpropagate,
    backpropagate_fast,
    backpropagate_steps,
    topological_order,
)
from autograd_lite.nn import MLP, data

NAN, INF = math.nan, math.inf


def identical(a: float, b: float) -> bool:
    """The same float as far as a float can tell: NaN is NaN, and -0.0 is not +0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def negative_zero(x: float) -> bool:
    return x == 0.0 and math.copysign(1.0, x) < 0.0


def steps_with_hooks(root: Value, seed: float) -> None:
    ready = []
    steps = list(backpropagate_steps(root, seed, BackwardStep, ready.append))
    assert [step.number for step in steps] == list(range(len(steps)))
    assert len(ready) == len(set(ready)) == len(topological_order(root))  # each node once


LOOPS = {
    "textbook": backpropagate,
    "fast": backpropagate_fast,
    "steps": steps_with_hooks,
    "backward()": lambda root, seed: root.backward(seed),
    "backward_steps()": lambda root, seed: list(root.backward_steps(seed, show_constants=True)),
}

# Every op of the engine, from Values: name -> (how many inputs (None: a list), forward).
OPS = {
    "+": (2, lambda x, y: x + y),
    "-": (2, lambda x, y: x - y),
    "*": (2, lambda x, y: x * y),
    "/": (2, lambda x, y: x / y),
    "**": (2, lambda x, y: x**y),
    "neg": (1, lambda x: -x),
    "exp": (1, Value.exp),
    "log": (1, Value.log),
    "sqrt": (1, Value.sqrt),
    "tanh": (1, Value.tanh),
    "sigmoid": (1, Value.sigmoid),
    "relu": (1, Value.relu),
    "abs": (1, abs),
    "leaky_relu": (2, lambda x, slope: x.leaky_relu(slope)),  # the slope is an input too
    "sum": (None, sum_values),
    "weighted_sum": (None, lambda xs: weighted_sum(xs[:1], xs[1:2], xs[2])),
}
# Plain numbers, and the ones where a loop could go wrong: zeros of both signs (the skip),
# NaN and the infinities (0 × inf must stay NaN).
numbers = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, NAN, INF, -INF]),
    st.floats(-3.0, 3.0),
    st.floats(allow_nan=True, allow_infinity=True),
)


def test_the_random_graphs_use_every_op_of_the_engine():
    # a new op must join the random graphs (users' ops, registered by other tests, aside)
    ours = {op for op, rule in DERIVATIVES.items() if rule.__module__.startswith("autograd_lite.")}
    assert set(OPS) == ours


@st.composite
def graphs(draw: st.DrawFn) -> tuple[Value, float, list[float]]:
    """A random graph (its root), a seed, and the gradients its nodes hold before the pass.

    Each step applies an op to earlier nodes, any of them (so nodes are used several times
    and the order has ties), or to a number (a constant leaf); an op that refuses its
    operands (log of -1, x / 0, ...) is left out, as the engine adds nothing then."""
    values = [Value(draw(numbers), label=f"x{i}") for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(0, 14))):
        name = draw(st.sampled_from(sorted(OPS)))
        arity, forward = OPS[name]
        count = 3 if name == "weighted_sum" else draw(st.integers(1, 4)) if arity is None else arity
        operands = [
            values[draw(st.integers(0, len(values) - 1))] if draw(st.booleans()) else draw(numbers)
            for _ in range(count)
        ]
        if not isinstance(operands[0], Value):  # a method needs a Value; an operator, one
            operands[0] = values[draw(st.integers(0, len(values) - 1))]
        try:
            values.append(forward(operands) if arity is None else forward(*operands))
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
    root = values[-1]  # a leaf when no op was applied: a leaf root must add up too
    held = draw(st.lists(numbers, min_size=len(topological_order(root)), max_size=100))
    return root, draw(numbers), held


def gradients_after(loop: str, root: Value, seed: float, held: list[float]) -> list[float]:
    order = topological_order(root)
    for node, grad in zip(order, held):
        node.grad = grad
    LOOPS[loop](root, seed)
    return [node.grad for node in order]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_every_loop_gives_the_textbook_loops_gradients_bit_for_bit(graph):
    root, seed, held = graph
    textbook = gradients_after("textbook", root, seed, held)
    order = topological_order(root)
    for loop in LOOPS:
        got = gradients_after(loop, root, seed, held)
        for node, before, ours, theirs in zip(order, held, got, textbook):
            if identical(ours, theirs):
                continue
            # The documented exception: the fast loop skips a node whose gradient is 0, so a
            # leaf that held -0.0 may keep it where the textbook adds a +0.0 (-0.0 + 0.0 = +0.0).
            assert loop in ("fast", "backward()"), (loop, node, ours, theirs)
            assert not node.inputs and node is not root and negative_zero(before), (loop, node)
            assert ours == theirs == 0.0


def test_a_node_used_several_times_adds_its_shares_in_the_order_of_the_walk():
    # x feeds three products; float addition depends on the order of the shares. Reversed
    # topological order (by hand): the last product's share first, then the middle, then the
    # first. The three numbers make that order give another sum than the forward one.
    a, b, c = 1.0, 1e16, -1e16  # (c + b) + a = 1, (a + b) + c = 0
    assert ((0.0 + c) + b) + a != ((0.0 + a) + b) + c
    for loop in LOOPS:
        x = Value(1.0, label="x")
        y = x * a + x * b + x * c
        LOOPS[loop](y, 1.0)
        assert identical(x.grad, ((0.0 + c) + b) + a), loop


def test_a_node_that_is_both_inputs_of_an_op_gets_the_first_inputs_share_first():
    # y = w - w, seed u: shares +u (first input), then -u. w holds 1.0 from an earlier
    # pass; with u = 2^53, (1 + u) - u = 0 while (1 - u) + u = 1.
    u = 2.0**53
    assert ((1.0 + u) - u, (1.0 - u) + u) == (0.0, 1.0)
    for loop in LOOPS:
        w = Value(5.0, label="w")
        y = w - w
        w.grad = 1.0
        LOOPS[loop](y, u)
        assert w.grad == 0.0, loop


def test_the_textbook_loop_resets_what_it_computes_through_and_adds_up_the_leaves():
    # y = (w * a)^2 with w = 3, a = 2: by hand dy/dw = 2 (w a) a = 24, dy/d(w a) = 2 w a = 12.
    w, a = Value(3.0, "w"), Value(2.0, "a")
    product = w * a
    y = product**2
    for passes in (1, 2):
        backpropagate(y, seed=1.0)
        assert (w.grad, a.grad) == (24.0 * passes, 36.0 * passes)  # leaves add up
        assert (product.grad, y.grad) == (12.0, 1.0)  # intermediates hold this pass's
    w.grad = 0.0
    backpropagate(w, seed=2.5)  # a leaf root: its gradient adds the seed
    backpropagate(w, seed=2.5)
    assert w.grad == 5.0


def test_a_zero_gradient_with_an_infinite_slope_is_not_skipped():
    for loop in LOOPS:
        w = Value(0.0, "w")
        y = (w * w).sqrt() * 0.0  # d sqrt(s)/ds = inf at s = 0, reached by a gradient of 0
        LOOPS[loop](y, 1.0)
        assert math.isnan(w.grad), loop  # 0 × inf is NaN: it reaches w


@pytest.mark.parametrize("loop, sign", [("textbook", 1.0), ("fast", -1.0), ("steps", 1.0)])
def test_the_sign_of_a_held_negative_zero_is_the_skips_only_trace(loop, sign):
    # A dead relu: dy/d(3w) = 0, so w's share is 3 × 0.0 = +0.0, and IEEE adds -0.0 + 0.0 to
    # +0.0. The fast loop skips the dead node and w keeps -0.0 (backpropagate_fast's docstring).
    assert math.copysign(1.0, -0.0 + 3.0 * 0.0) == 1.0
    w = Value(-1.0, "w")
    w.grad = -0.0
    LOOPS[loop]((w * 3.0).relu(), 1.0)
    assert w.grad == 0.0 and math.copysign(1.0, w.grad) == sign


def test_the_benchmarks_graph_the_same_in_every_loop_with_half_its_nodes_skipped():
    # bench_vs_micrograd.py row 3: a relu MLP op by op, the demo's hinge loss over moons.
    model = MLP(2, [16, 16, 1], activation="relu", seed=0, op_by_op=True)
    points, targets = data.moons(40, noise=0.1, seed=0)
    losses = [(1 + -t * model(p)).relu() for p, t in zip(points, targets)]
    loss = sum_values(losses) * (1.0 / len(losses))
    order = topological_order(loss)
    results = {loop: gradients_after(loop, loss, 1.0, [0.0] * len(order)) for loop in LOOPS}
    for loop, got in results.items():
        assert all(map(identical, got, results["textbook"])), loop
    dead = [node for node in order if node.inputs and node.grad == 0.0]
    assert len(dead) > len(order) // 4  # zero gradients: the fast loop had work to skip
