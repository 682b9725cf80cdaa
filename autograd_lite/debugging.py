"""Debugging the backward pass: steps, hooks, breakpoints and ``detect_anomaly()``.

Everything here runs the engine's chain-rule loop one edge at a time
(``engine.backpropagate_steps``) with an observer; the plain ``backward()`` never pays for any
of it. The engine does not import this module: when imported (``autograd_lite`` does), this
module hands itself over with ``engine.use_debugger``, and its functions ``watching``,
``backward``, ``backward_steps`` and ``register_hook`` answer the engine's ``Debugger``.

* ``BackwardStep`` -- one application of the chain rule, as data;
* ``Value.backward_steps()`` -- the backward pass one step at a time;
* ``Value.register_hook(hook)`` -- call ``hook(node)`` when ``node.grad`` is complete;
* ``Value.backward(break_on=...)`` -- stop in ``pdb`` (or call ``on_break``) before a step;
* ``detect_anomaly()`` -- raise ``AnomalyError`` at the first NaN or inf, naming the op, its
  inputs and the line that made the node.

>>> from autograd_lite import Value
>>> a = Value(2.0, label="a")
>>> b = (a * a).tanh()
>>> [(s.node.op, s.input.label or s.input.op) for s in b.backward_steps()]
[('tanh', '*'), ('*', 'a'), ('*', 'a')]
>>> x = Value(2.0, label="x")
>>> handle = x.register_hook(lambda v: print(v.label, v.grad))
>>> (x * 3).backward()
x 3.0
>>> handle.remove()
"""

from __future__ import annotations

import math
import os
import pdb
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from autograd_lite import engine
from autograd_lite.checks import check_callable
from autograd_lite.checks import describe_operands as _describe
from autograd_lite.engine import Value, backpropagate_steps
from autograd_lite.gradients import steps_on_a_copy
from autograd_lite.modes import changed_mode
from autograd_lite.modes import mode as _mode
from autograd_lite.names import is_constant_or_target
from autograd_lite.notation import describe_step, names_in_order

__all__ = ["AnomalyError", "BackwardStep", "HookHandle", "detect_anomaly", "without_constants"]


@dataclass(frozen=True)
class BackwardStep:
    """One application of the chain rule: ``input.grad += local_grad * upstream``.

    ``upstream`` is d(output)/d(node), complete when the step runs; ``local_grad`` is
    d(node)/d(input); ``contribution`` is their product; ``input_grad`` is the input's
    gradient after adding it. ``index`` is the position of ``input`` among the node's
    inputs and ``number`` counts steps from 0. ``carried`` is the gradient a leaf already
    held from earlier ``backward()`` calls (leaf gradients add up), given on the first step
    into that leaf and 0.0 otherwise; the narration says so. ``names`` is what ``str(step)``
    calls ``node`` and ``input``, as in the stepper and ``explain`` (the root E, an
    unlabelled ``*`` numbered by its position: ``notation.names_in_order``); set by
    ``backward_steps``.
    """

    number: int
    node: Value
    input: Value
    index: int
    local_grad: float
    upstream: float
    contribution: float
    input_grad: float
    carried: float = 0.0
    names: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        names = dict(zip((self.node, self.input), self.names)) if self.names else None
        return describe_step(self, names=names)


# --- hooks ---------------------------------------------------------------------------------
# Hooks live beside the graph, weakly: most nodes have none, and a hook keeps nothing alive.
_hooks: weakref.WeakKeyDictionary[Value, list] = weakref.WeakKeyDictionary()


class HookHandle:
    """Returned by ``Value.register_hook``; ``remove()`` takes the hook away."""

    __slots__ = ("_node", "_hook")

    def __init__(self, node: Value, hook: Callable[[Value], object]) -> None:
        self._node = weakref.ref(node)
        self._hook = hook

    def remove(self) -> None:
        node = self._node()
        hooks = _hooks.get(node) if node is not None else None
        if hooks and self._hook in hooks:
            hooks.remove(self._hook)
            if not hooks:
                del _hooks[node]


def register_hook(node: Value, hook: Callable[[Value], object]) -> HookHandle:
    """``Value.register_hook``: call ``hook(node)`` once ``node.grad`` is complete."""
    _hooks.setdefault(node, []).append(check_callable("register_hook", "hook", hook))
    return HookHandle(node, hook)


def _run_hooks(node: Value) -> None:
    for hook in list(_hooks.get(node, ())):
        hook(node)  # node.grad is complete: every consumer has been processed


# --- breakpoints ---------------------------------------------------------------------------


def _breakpoint_test(
    order: list[Value],
    break_on: Value | str | Callable[[BackwardStep], bool] | None,
) -> Callable[[BackwardStep], bool] | None:
    if break_on is None:
        return None
    if isinstance(break_on, (Value, str)):
        if isinstance(break_on, str) and not break_on:  # "" would match every unlabelled node
            raise ValueError("backward: break_on must be a non-empty label, got ''")
        _check_in_graph(order, break_on)  # a breakpoint that can never stop is a mistake
    if isinstance(break_on, Value):
        return lambda step: step.node is break_on or step.input is break_on
    if isinstance(break_on, str):
        return lambda step: break_on in (step.node.label, step.input.label)
    if callable(break_on):
        return break_on
    raise TypeError(
        f"backward: break_on must be a Value, a label or a predicate, "
        f"got {type(break_on).__name__} {break_on!r}"
    )


def _check_in_graph(order: list[Value], break_on: Value | str) -> None:
    """ValueError unless ``break_on`` (a node or a label) is in the graph (``order``, root
    last)."""
    if isinstance(break_on, Value):
        if break_on not in set(order):
            raise ValueError(
                f"backward: break_on={break_on!r} is not in the graph of {order[-1]!r}"
            )
        return
    labels = list(dict.fromkeys(node.label for node in order if node.label))
    if break_on not in labels:
        shown = ", ".join(labels[:10]) + (", ..." if len(labels) > 10 else "")
        raise ValueError(
            f"backward: break_on={break_on!r} is not a label in the graph; "
            f"its labels are: {shown or 'none (no node has a label)'}"
        )


def _open_debugger(step: BackwardStep) -> None:
    """Stop in pdb right before ``step`` is applied. Type ``p step`` to see it."""
    print(f"backward: stopped before step {step.number}: {step}", file=sys.stderr)
    # Stop in the chain-rule loop, on the line that applies the step (``step`` is in scope).
    frame = sys._getframe().f_back
    while frame is not None and frame.f_code is not backpropagate_steps.__code__:
        frame = frame.f_back
    pdb.Pdb().set_trace(frame)


def backward(
    root: Value,
    seed: float,
    break_on: Value | str | Callable[[BackwardStep], bool] | None,
    on_break: Callable[[BackwardStep], object] | None,
) -> None:
    """``Value.backward`` with hooks, a breakpoint or ``detect_anomaly()`` in play."""
    if on_break is not None:
        check_callable("backward", "on_break", on_break)
        if break_on is None:
            raise ValueError("backward: on_break needs break_on, which says where to stop")
    order = engine.topological_order(root)  # for the checks below; the pass sorts its own
    should_break = _breakpoint_test(order, break_on)  # a bad break_on fails before any change
    if _mode.get().observe is _check_new_node:
        _check_gradients(root, seed)  # raises before any gradient changes
    make_step = _step_maker(order)
    if should_break is not None:
        stop, make = on_break or _open_debugger, make_step

        def make_step(*edge: object) -> BackwardStep:
            step = make(*edge)
            if should_break(step):
                stop(step)
            return step

    for _ in backpropagate_steps(root, seed, make_step, _run_hooks if _hooks else None):
        pass


def backward_steps(
    root: Value, seed: float, show_constants: bool = False
) -> Iterator[BackwardStep]:
    """``Value.backward_steps``: the backward pass, one ``BackwardStep`` at a time."""
    if _mode.get().observe is _check_new_node:
        _check_gradients(root, seed)  # as backward(): raises before any change
    order = engine.topological_order(root)
    make_step = _step_maker(order, names_in_order(order))  # print(step) names nodes as explain
    steps = backpropagate_steps(root, seed, make_step, _run_hooks if _hooks else None)
    return steps if show_constants else without_constants(steps)


def without_constants(steps: Iterator[BackwardStep]) -> Iterator[BackwardStep]:
    """The steps into anything but a constant or a target, numbered again from 0 (the
    hidden ones still run: every gradient ends as ``backward()`` leaves it)."""
    number = 0
    for step in steps:
        if not is_constant_or_target(step.input):
            yield replace(step, number=number)
            number += 1


def _step_maker(
    order: list[Value], names: Mapping[Value, str] | None = None
) -> Callable[..., BackwardStep]:
    """``BackwardStep``, or, when leaves of the graph (``order``, root last) already hold
    gradients (an earlier ``backward()``), a maker that records that ``carried`` gradient on
    the first step into each such leaf, so a narration does not present doubled gradients
    as this pass's."""
    root = order[-1]
    held = {
        node: node.grad
        for node in order
        if not node.inputs and node.grad != 0.0 and node is not root
    }
    if not held and names is None:
        return BackwardStep

    def make_step(*edge: object) -> BackwardStep:
        # the two names only: a step kept does not keep the whole graph alive
        named = None if names is None else (names[edge[1]], names[edge[2]])  # node, input
        step = BackwardStep(*edge, names=named)  # type: ignore[arg-type]
        carried = held.pop(step.input, 0.0)
        return replace(step, carried=carried) if carried else step

    return make_step


def watching() -> bool:
    """True when a plain ``backward()`` must take the slow path: hooks or detect_anomaly()."""
    return bool(_hooks) or _mode.get().observe is not None


# --- detect_anomaly ------------------------------------------------------------------------


class AnomalyError(ValueError):
    """A NaN or infinity appeared in a result or a gradient under ``detect_anomaly()``."""


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``AnomalyError`` at the first operation whose result or gradient is NaN or inf.

    The error names the operation, its inputs with their labels, and the source line that
    created the node. It costs time, so use it while debugging only.

    >>> from autograd_lite import Value
    >>> big = Value(1e308, label="big")
    >>> with detect_anomaly():
    ...     big * 10  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    autograd_lite.debugging.AnomalyError: * gave inf from inputs big=1e+308, 10.0 (created at ...)
    """
    with changed_mode(observe=_check_new_node):
        yield


# Where each node was created, recorded only under detect_anomaly(); weak, so it keeps
# nothing alive.
_origins: weakref.WeakKeyDictionary[Value, str] = weakref.WeakKeyDictionary()
# Frames in the package (the engine, sums, jvp's observer, ...) are passed over.
_PACKAGE = os.path.dirname(engine.__file__) + os.sep


def _caller_line() -> str:
    """'file:line' of the first frame outside the package: where the user made the node."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _check_new_node(node: Value, op: str, inputs: tuple[Value, ...]) -> None:
    """Under detect_anomaly(): remember where ``node`` was made; refuse a NaN or inf."""
    _origins[node] = _caller_line()
    if not math.isfinite(node.data):
        raise AnomalyError(
            f"{op} gave {node.data!r} from inputs {_describe(inputs)} (created at {_origins[node]})"
        )


def _check_gradients(root: Value, seed: float) -> None:
    """Find the first NaN/inf gradient, without changing any grad: runs on a copy.

    A constant's or a target's gradient (``names.is_constant_or_target``) is not checked:
    nobody reads it, and nothing flows on from a leaf (the base of ``0.0 ** w`` gets an inf
    there).
    """
    if not math.isfinite(seed):
        raise AnomalyError(f"backward: the seed is {seed!r} (d root/d root must be finite)")

    def check(*edge: object) -> BackwardStep:  # the edge names the original nodes
        step = BackwardStep(*edge)  # type: ignore[arg-type]
        if not math.isfinite(step.contribution) and not is_constant_or_target(step.input):
            where = _origins.get(step.node, "a place outside detect_anomaly()")
            raise AnomalyError(
                f"backward through {step.node.op} gave a gradient of {step.contribution!r} "
                f"for input {_describe([step.input])} (inputs {_describe(step.node.inputs)}; "
                f"node created at {where})"
            )
        return step

    steps, _ = steps_on_a_copy(root, seed, check)
    for _ in steps:
        pass


# The hand-over (engine.py, "the debugging tools plug in here"): Value.backward (while
# watching() is true), backward_steps and register_hook call this module's functions.
engine.use_debugger(sys.modules[__name__])
