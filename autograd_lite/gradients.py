"""Gradients as values: ``grad()``, ``gradcheck()``, and the chain rule on a copy of a graph.

``grad(output, inputs)`` gives d(output)/d(input) without touching any ``.grad``: it runs the
engine's one chain-rule loop (``engine.backpropagate``) on a copy of the graph. With
``create_graph=True`` the copy's local derivatives are the ops' rules evaluated on Values,
so the gradients are Values that can be differentiated again. ``gradcheck`` compares
``backward()`` with central finite differences.

>>> from autograd_lite import Value
>>> x = Value(3.0, label="x")
>>> grad(x * x, [x])
[6.0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from autograd_lite.checks import check_instance, check_number
from autograd_lite.engine import (
    Value,
    apply_rule,
    backpropagate,
    backpropagate_steps,
    topological_order,
)
from autograd_lite.modes import no_grad

__all__ = [
    "GradcheckResult",
    "copy_graph",
    "grad",
    "gradcheck",
    "gradients",
    "steps_on_a_copy",
]


def copy_graph(
    root: Value, stop: Callable[[Value], bool] | None = None, create_graph: bool = False
) -> dict[Value, Value]:
    """A copy of every node ``root`` depends on, as {original: copy}; gradients start at 0.

    The copies have the originals' data, labels, ops and local derivatives, so running the
    backward pass on them leaves the originals' ``.grad`` alone. A node for which
    ``stop(node)`` is true is copied as a leaf. With ``create_graph`` the local derivatives
    are the ops' rules evaluated on the original Values (so they are Values themselves).

    >>> a = Value(2.0, label="a")
    >>> copies = copy_graph(a * a)
    >>> [(c.label or c.op, c.data) for c in copies.values()]
    [('a', 2.0), ('*', 4.0)]
    """
    copies: dict[Value, Value] = {}
    for node in topological_order(root, stop):
        copy = Value(node.data, node.label)
        if node.inputs and not (stop is not None and stop(node)):
            copy.op = node.op
            copy.inputs = tuple(copies[input_] for input_ in node.inputs)
            if create_graph:  # the same rule, evaluated on Values this time
                copy.local_grads = apply_rule(node.op, node.inputs, node)
            else:
                copy.local_grads = node.local_grads
        copies[node] = copy
    return copies


def steps_on_a_copy(
    root: Value, seed: float, make_step: Callable[..., Any]
) -> tuple[Iterator[Any], dict[Value, Value]]:
    """The backward pass from ``root`` one edge at a time (``engine.backpropagate_steps``),
    run on ``copy_graph(root)``: no ``.grad`` of the graph changes. Returns the steps (each
    edge runs when its step is asked for) and the copies, ``{original: copy}``: a copy's
    ``grad`` is the original's gradient so far.

    ``make_step`` gets the original nodes, not their copies, so the steps a narration or a
    check shows name the graph the learner built.

    >>> a = Value(2.0, label="a")
    >>> steps, copies = steps_on_a_copy(a * a, 1.0, lambda *edge: edge[2].label)
    >>> list(steps), copies[a].grad, a.grad
    (['a', 'a'], 4.0, 0.0)
    """
    copies = copy_graph(root)
    original = {copy: node for node, copy in copies.items()}

    def on_originals(number: int, node: Value, input_: Value, *numbers: float) -> Any:
        return make_step(number, original[node], original[input_], *numbers)

    return backpropagate_steps(copies[root], seed, on_originals), copies


def gradients(
    root: Value,
    seed: float = 1.0,
    stop: Callable[[Value], bool] | None = None,
    create_graph: bool = False,
) -> dict[Value, float | Value]:
    """d(root)/d(node) for every node ``root`` depends on, leaving every ``.grad`` alone.

    A node for which ``stop(node)`` is true is treated as a leaf. Runs
    ``engine.backpropagate`` on ``copy_graph(root, stop, create_graph)``.

    >>> a = Value(2.0, label="a")
    >>> b = a * a
    >>> [(node.label or node.op, g) for node, g in gradients(b + a).items()]
    [('a', 5.0), ('*', 1.0), ('+', 1.0)]
    >>> a.grad
    0.0
    """
    copies = copy_graph(root, stop, create_graph)
    backpropagate(copies[root], seed)
    return {node: copy.grad for node, copy in copies.items()}


# --- gradients as values -----------------------------------------------------------------


def grad(
    output: Value, inputs: Sequence[Value], create_graph: bool = False
) -> list[float] | list[Value]:
    """d(output)/d(input) for each input, without touching any ``.grad``.

    With ``create_graph=True`` the gradients are Values in a graph of their own, built by
    evaluating each op's derivative rule on Values, so they can be differentiated again.

    >>> x = Value(3.0, label="x")
    >>> y = x ** 3                                     # y = x^3
    >>> [dy] = grad(y, [x], create_graph=True)         # 3 x^2 = 27
    >>> [d2y] = grad(dy, [x])                          # 6 x = 18
    >>> dy.data, d2y
    (27.0, 18.0)
    """
    check_instance("grad", "output", output, Value, "a Value")
    for x in inputs:
        check_instance("grad", "each input", x, Value, "a Value")
    grads = gradients(output, 1.0, None, create_graph)
    if create_graph:
        return [_as_value(grads.get(x, 0.0)) for x in inputs]
    return [float(grads.get(x, 0.0)) for x in inputs]


def _as_value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


# --- checking gradients against finite differences ---------------------------------------


@dataclass(frozen=True)
class GradcheckResult:
    """What ``gradcheck`` found: one row per input, and the worst mismatch.

    Truthy when every gradient is within tolerance.
    """

    ok: bool
    rows: tuple[tuple[str, float, float, float], ...]  # (label, backward, numeric, |diff|)
    worst: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"gradcheck {'passed' if self.ok else 'FAILED'}; worst: {self.worst}"]
        for label, analytic, numeric, diff in self.rows:
            lines.append(
                f"  {label}: backward {analytic:.8g}, numeric {numeric:.8g}, |diff| {diff:.2g}"
            )
        return "\n".join(lines)


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Value | float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> GradcheckResult:
    """Compare ``backward()`` with central finite differences (f(x+eps) - f(x-eps)) / 2eps.

    ``f`` takes the inputs as Values and returns a Value. The inputs themselves are left
    untouched: the check works on fresh leaves with the same data and labels.

    >>> result = gradcheck(lambda a, b: (a * b).tanh(), [Value(0.3, "a"), Value(-0.7, "b")])
    >>> bool(result)
    True
    """
    eps = check_number("gradcheck", "eps", eps, above=0.0)
    leaves = [v.detach() if isinstance(v, Value) else Value(v) for v in inputs]
    for i, leaf in enumerate(leaves):
        leaf.label = leaf.label or f"input {i}"
    out = f(*leaves)
    check_instance("gradcheck", "what f returns", out, Value, "a Value")
    out.backward()
    rows = []
    for i, leaf in enumerate(leaves):

        def shifted(delta: float, i: int = i) -> float:
            with no_grad():
                args = [Value(v.data + (delta if j == i else 0.0)) for j, v in enumerate(leaves)]
                return f(*args).data

        numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
        rows.append((leaf.label, leaf.grad, numeric, abs(leaf.grad - numeric)))
    ok = all(diff <= atol + rtol * abs(numeric) for _, _, numeric, diff in rows)
    label, analytic, numeric, diff = max(rows, key=lambda row: row[3])
    worst = f"{label}: backward {analytic:.8g} vs numeric {numeric:.8g} (|diff| {diff:.2g})"
    return GradcheckResult(ok, tuple(rows), worst)
