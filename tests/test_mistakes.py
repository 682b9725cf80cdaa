"""docs/mistakes.md keeps its word: each tiny engine's number really differs from central finite
differences, and autograd_lite's agrees with them.

tests/test_docs.py checks that each block prints what the page shows; here the page's own code
(each section's block, run alone) is taken apart and checked against numbers computed without
any engine, at other points than the page's.
"""

from __future__ import annotations

import contextlib
import io
import math
import re

import pytest
from helpers import numeric_gradient
from test_docs import ROOT, blocks_of

from autograd_lite import Value, grad, topological_order
from autograd_lite.nn import SGD, Neuron

PAGE = ROOT / "docs" / "mistakes.md"
HEADING = re.compile(r"^#{2,3} (\d+[a-z]?)\. ", re.MULTILINE)


def run_section(key: str) -> dict:
    """The namespace left by the runnable block of section ``key`` ("1", "3a", ...)."""
    text = PAGE.read_text(encoding="utf-8")
    for block in blocks_of(PAGE):
        start = text.index(block.code)
        section = [m.group(1) for m in HEADING.finditer(text, 0, start)][-1]
        if section == key and not block.excerpt:
            namespace: dict = {"__name__": "__docs__"}
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(block.code, f"mistakes.md {key}", "exec"), namespace)  # noqa: S102
            return namespace
    raise AssertionError(f"docs/mistakes.md has no python block under the heading {key}.")


def central(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def test_every_mistake_has_a_runnable_block():
    keys = {"1", "2", "3a", "3b", "4", "5"}
    assert all(run_section(key) for key in keys)


@pytest.mark.parametrize("e", [0.5, -1.25, 3.0])
def test_assignment_keeps_the_blame_of_one_use_only(e):
    tiny = run_section("1")["Node"]
    for use_twice, f in [
        (lambda a: a * a, lambda x: x * x),
        (lambda a: tiny(a.data + a.data, (a, a), (1.0, 1.0)), lambda x: x + x),  # b = a + a
    ]:
        numeric = central(f, e)
        wrong, right = tiny(e), Value(e)
        use_twice(wrong).backward()
        f(right).backward()  # f runs on floats and on Values
        assert abs(wrong.grad - numeric) > 0.1  # e (or 1) instead of 2e (or 2)
        assert right.grad == pytest.approx(numeric, abs=1e-6)


def test_a_second_backward_doubles_the_leaves_only():
    error = run_section("2")["error"]
    w, b = Value(-0.3, "w"), Value(0.7, "b")
    loss = error(w, b)
    loss.backward()
    between = [node for node in topological_order(loss) if node.inputs]  # z, z - t, ...
    first = [node.grad for node in between]
    loss.backward()
    numeric = numeric_gradient(lambda: error(w, b), w)
    assert w.grad == pytest.approx(2 * numeric, abs=1e-6)
    assert [node.grad for node in between] == first  # reset by backpropagate: not doubled
    w.grad = b.grad = 0.0
    loss.backward()
    assert w.grad == pytest.approx(numeric, abs=1e-6)


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_an_engine_that_resets_nothing_is_worse_than_double_and_grows_with_depth(depth):
    w = Value(0.5, "w")
    y = w
    for _ in range(depth):
        y = y * 1.5
    for _ in range(2):  # the chain rule with no reset at all, called twice
        y.grad = 1.0
        for node in reversed(topological_order(y)):
            for input_, local_grad in zip(node.inputs, node.local_grads):
                input_.grad += local_grad * node.grad
    assert w.grad / 1.5**depth == pytest.approx(depth + 1)  # 2x only for a single node


@pytest.mark.parametrize("w", [0.5, -2.0])
def test_depth_first_passing_is_wrong_on_a_diamond_and_right_on_a_chain(w):
    tiny = run_section("3a")["Node"]
    a_in, w1, w2 = 2.0, 3.0, 4.0

    def diamond(engine, w):
        leaf = engine(w)
        a = leaf * engine(a_in)
        return leaf, a * engine(w1) + a * engine(w2)

    def chain(engine, w):
        leaf = engine(w)
        return leaf, (leaf * engine(a_in)) * engine(w1) + engine(w2)

    for build, wrong_on_it in [(diamond, True), (chain, False)]:
        numeric = central(lambda x, build=build: build(float, x)[1], w)
        wrong, loss = build(tiny, w)
        loss.backward()
        right, loss = build(Value, w)
        loss.backward()
        assert right.grad == pytest.approx(numeric, abs=1e-6)
        assert (abs(wrong.grad - numeric) > 1.0) is wrong_on_it, build.__name__


def test_a_recursive_sort_fails_on_a_long_chain_where_the_stack_does_not():
    build_topo = run_section("3b")["build_topo"]
    w = Value(0.75, "w")
    y = w
    for _ in range(10_000):
        y = y * 1.0001
    with pytest.raises(RecursionError):
        build_topo(y, [], set())
    order = topological_order(y)
    place = {node: i for i, node in enumerate(order)}
    assert len(order) == 20_001 and order[-1] is y
    assert all(place[input_] < place[node] for node in order for input_ in node.inputs)
    y.backward()

    def chain(x: float) -> float:
        for _ in range(10_000):
            x *= 1.0001
        return x

    assert w.grad == pytest.approx(central(chain, 0.75), rel=1e-6)


def test_without_zeroing_each_update_uses_the_sum_of_all_past_gradients():
    train = run_section("4")["train"]
    right, wrong = train(True, steps=12), train(False, steps=12)
    assert all(later < earlier for earlier, later in zip(right, right[1:]))
    assert any(later > earlier for earlier, later in zip(wrong, wrong[1:]))  # E comes back up
    assert wrong[-1] > 100 * right[-1]

    # The same loop, watched: the gradient it updates with is the sum of the true ones so far.
    neuron = Neuron(1, activation="linear")
    neuron.w[0].data, neuron.b.data = 0.5, 0.0
    w = neuron.w[0]
    optimizer = SGD(neuron.parameters(), lr=0.1)
    true_so_far = 0.0
    for _ in range(6):

        def error():
            return 0.5 * (neuron([2.0]) - 3.0) ** 2

        true_so_far += numeric_gradient(error, w)
        error().backward()
        assert w.grad == pytest.approx(true_so_far, abs=1e-5)
        optimizer.step()


@pytest.mark.parametrize("x", [0.5, -1.2, 2.0])
def test_a_rule_on_floats_loses_the_second_derivative(x):
    namespace = run_section("5")
    tiny, derivative = namespace["Node"], namespace["derivative"]

    def first(at: float) -> float:  # the tiny engine's first derivative is right ...
        leaf = tiny(at)
        return derivative(leaf.tanh(), leaf).data

    h = 1e-5
    numeric = (math.tanh(x + h) - 2 * math.tanh(x) + math.tanh(x - h)) / (h * h)
    assert first(x) == pytest.approx(central(math.tanh, x), abs=1e-6)
    assert central(first, x, h) == pytest.approx(numeric, abs=1e-4)
    leaf = tiny(x)
    assert derivative(derivative(leaf.tanh(), leaf), leaf).data == 0.0  # ... the second is 0
    assert abs(numeric) > 0.1
    assert derivative(derivative(leaf * leaf, leaf), leaf).data == 2.0  # its * is fine

    v = Value(x)
    [dy] = grad(v.tanh(), [v], create_graph=True)
    [d2y] = grad(dy, [v])
    assert d2y == pytest.approx(numeric, abs=1e-4)
    assert d2y == pytest.approx(-2 * math.tanh(x) * (1 - math.tanh(x) ** 2), abs=1e-12)
