"""The engine: one scalar ``Value`` per node of a computation graph.

Every operation on Values makes a new Value that remembers

* ``op``          -- the name of the operation ("+", "*", "tanh", ...),
* ``inputs``      -- the Values it was computed from, in order, and
* ``local_grads`` -- d(this node)/d(input) for each input, evaluated at the forward values.

``backward()`` walks the graph from the output back to the leaves and applies the chain
rule: each input receives ``local_grad * upstream``, where ``upstream`` is d(output)/d(node).
Local derivatives are computed once, during the forward pass, so the backward pass only
multiplies and adds.

Each operation is written as a method (its forward rule) followed by its derivative rule,
a plain function registered under the operation's name in ``DERIVATIVES``. A rule takes the
input values and the output value and returns one partial derivative per input. Rules use
only arithmetic, so the same rule works on floats (the forward pass) and on Values
(``grad(..., create_graph=True)``, which differentiates a gradient again).

>>> a = Value(2.0, label="a")
>>> b = Value(-3.0, label="b")
>>> c = a * b + a
>>> c.backward()
>>> c.data, a.grad, b.grad
(-4.0, -2.0, 2.0)
"""

from __future__ import annotations

import math
import numbers
import operator
import pdb
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = [
    "DERIVATIVES",
    "AnomalyError",
    "BackwardStep",
    "GradcheckResult",
    "Value",
    "detect_anomaly",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "sum_values",
    "topological_order",
    "weighted_sum",
]

# op name -> derivative rule: rule(*input_values, output_value) -> tuple of partials.
DERIVATIVES: dict[str, Callable[..., tuple]] = {}


def derivative(op: str) -> Callable:
    """Register ``rule`` as the derivative rule of ``op`` (used inside the class body)."""

    def register(rule: Callable[..., tuple]) -> staticmethod:
        DERIVATIVES[op] = rule
        return staticmethod(rule)

    return register


# --- recording modes ---------------------------------------------------------------------
# One context variable holds the mode, so an operation pays for a single lookup. Context
# variables keep no_grad() and detect_anomaly() local to a thread or an asyncio task.


@dataclass(frozen=True)
class _Mode:
    record: bool = True  # False under no_grad(): results are leaves
    anomaly: bool = False  # True under detect_anomaly()


_RECORDING = _Mode()
_mode: ContextVar[_Mode] = ContextVar("autograd_lite_mode", default=_RECORDING)


@contextmanager
def no_grad() -> Iterator[None]:
    """Operations inside the block record no inputs: their results are plain leaves.

    Use it for evaluation and for updating weights. Nestable and thread-safe.

    >>> x = Value(3.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.data, y.inputs
    (9.0, ())
    """
    token = _mode.set(_Mode(record=False, anomaly=_mode.get().anomaly))
    try:
        yield
    finally:
        _mode.reset(token)


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return _mode.get().record


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``AnomalyError`` at the first operation whose result or gradient is NaN or inf.

    The error names the operation, its inputs with their labels, and the source line that
    created the node. It costs time, so use it while debugging only.

    >>> big = Value(1e308, label="big")
    >>> with detect_anomaly():
    ...     big * 10  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    autograd_lite.engine.AnomalyError: * gave inf from inputs big=1e+308, 10.0 (created at ...)
    """
    token = _mode.set(_Mode(record=_mode.get().record, anomaly=True))
    try:
        yield
    finally:
        _mode.reset(token)


class AnomalyError(ValueError):
    """A NaN or infinity appeared in a result or a gradient under ``detect_anomaly()``."""


# Where each node was created, recorded only under detect_anomaly(); weak, so it keeps
# nothing alive. Hooks live beside the graph for the same reason: most nodes have none.
_origins: weakref.WeakKeyDictionary[Value, str] = weakref.WeakKeyDictionary()
_hooks: weakref.WeakKeyDictionary[Value, list] = weakref.WeakKeyDictionary()
_ENGINE_FILE = __file__


def _caller_line() -> str:
    """'file:line' of the first frame outside this module: where the user made the node."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == _ENGINE_FILE:
        frame = frame.f_back
    if frame is None:
        return "unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _describe(values: Iterable[Value]) -> str:
    """'a=2.0, -1.5' -- operand values, with labels where they have one (for error messages)."""
    return ", ".join(f"{v.label}={v.data!r}" if v.label else repr(v.data) for v in values)


def _fail(error: type[Exception], op: str, why: str, *operands: Value) -> Exception:
    return error(f"{op}: {why}; got {_describe(operands)}")


def _is_real(x: object) -> bool:
    # float and int first: the ABC check of numbers.Real is slow, and this runs on every
    # number that meets a Value.
    kind = type(x)
    if kind is float or kind is int:
        return True
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _as_value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _number(x: Value | float) -> float:
    """The float inside: lets a derivative rule branch on floats and Values alike."""
    return x.data if isinstance(x, Value) else x


def _compared(other: object) -> float:
    """The number a Value is compared with; anything else is a TypeError naming it."""
    if isinstance(other, Value):
        return other.data
    if _is_real(other):
        return other
    raise TypeError(f"cannot compare a Value with {type(other).__name__} {other!r}")


def _log(x: Value | float) -> Value | float:
    return x.log() if isinstance(x, Value) else math.log(x)


# --- the node ----------------------------------------------------------------------------


class Value:
    """A scalar that remembers how it was computed, so gradients can flow back through it.

    Attributes a learner reads:

    * ``data``        -- the number (a float);
    * ``grad``        -- d(output)/d(this) after ``output.backward()``; 0.0 at start;
    * ``label``       -- a name for pictures, narrations and error messages;
    * ``op``          -- the operation that made this node ("" for a leaf);
    * ``inputs``      -- the Values it was computed from, in order;
    * ``local_grads`` -- d(this)/d(input) for each input, in the same order.

    >>> w = Value(0.5, label="w")
    >>> z = w * 4.0
    >>> z.op, z.local_grads
    ('*', (4.0, 0.5))
    """

    __slots__ = ("data", "grad", "label", "op", "inputs", "local_grads", "__weakref__")

    data: float
    grad: float
    label: str
    op: str
    inputs: tuple[Value, ...]
    local_grads: tuple

    def __init__(self, data: float, label: str = "") -> None:
        if not _is_real(data):
            raise TypeError(
                f"Value(data): data must be a real number (int or float), "
                f"not {type(data).__name__}: {data!r}"
            )
        if not isinstance(label, str):
            raise TypeError(f"Value(label): label must be a str, not {type(label).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.inputs = ()
        self.local_grads = ()

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        op = f"op={self.op!r}, " if self.op else ""
        return f"Value({name}{op}data={self.data:.6g}, grad={self.grad:.6g})"

    def __float__(self) -> float:
        return self.data

    # Comparisons look at data and return bool. There is no __eq__: Values are graph nodes,
    # compared and hashed by identity, so they can live in sets and dicts.
    def __lt__(self, other: Value | float) -> bool:
        return self.data < _compared(other)

    def __le__(self, other: Value | float) -> bool:
        return self.data <= _compared(other)

    def __gt__(self, other: Value | float) -> bool:
        return self.data > _compared(other)

    def __ge__(self, other: Value | float) -> bool:
        return self.data >= _compared(other)

    # --- arithmetic: forward rule, then derivative rule -------------------------------

    def __add__(self, other: Value | float) -> Value:
        other = _operand(other, "+")
        x, y = self.data, other.data
        out = x + y
        return _record(out, "+", (self, other), Value.add_rule(x, y, out))

    @derivative("+")
    def add_rule(x, y, out):  # d(x+y)/dx = 1, d(x+y)/dy = 1
        return (1.0, 1.0)

    def __mul__(self, other: Value | float) -> Value:
        other = _operand(other, "*")
        x, y = self.data, other.data
        out = x * y
        return _record(out, "*", (self, other), Value.mul_rule(x, y, out))

    @derivative("*")
    def mul_rule(x, y, out):  # d(xy)/dx = y, d(xy)/dy = x
        return (y, x)

    def __sub__(self, other: Value | float) -> Value:
        other = _operand(other, "-")
        x, y = self.data, other.data
        out = x - y
        return _record(out, "-", (self, other), Value.sub_rule(x, y, out))

    @derivative("-")
    def sub_rule(x, y, out):  # d(x-y)/dx = 1, d(x-y)/dy = -1
        return (1.0, -1.0)

    def __truediv__(self, other: Value | float) -> Value:
        other = _operand(other, "/")
        if other.data == 0.0:
            raise _fail(ZeroDivisionError, "/", "division by zero", self, other)
        x, y = self.data, other.data
        out = x / y
        return _record(out, "/", (self, other), Value.div_rule(x, y, out))

    @derivative("/")
    def div_rule(x, y, out):  # d(x/y)/dx = 1/y, d(x/y)/dy = -x/y^2 = -out/y
        return (1.0 / y, -out / y)

    def __pow__(self, other: Value | float) -> Value:
        other = _operand(other, "**")
        x, y = self.data, other.data
        if x == 0.0 and y < 0.0:
            raise _fail(ZeroDivisionError, "**", "0 to a negative power", self, other)
        if x < 0.0 and not y.is_integer():
            raise _fail(ValueError, "**", "negative base to a non-integer power", self, other)
        try:
            out = x**y
        except OverflowError:
            raise _fail(OverflowError, "**", "result too large for a float", self, other) from None
        return _record(out, "**", (self, other), Value.pow_rule(x, y, out))

    @derivative("**")
    def pow_rule(x, y, out):
        # d(x^y)/dx = y x^(y-1); at x = 0 that is flat for y = 0 and vertical for 0 < y < 1.
        if _number(x) == 0.0 and _number(y) < 1.0:
            dx = 0.0 if _number(y) == 0.0 else math.inf
        else:
            dx = y * x ** (y - 1.0)
        # d(x^y)/dy = x^y ln x, defined for x > 0; at x = 0 (y > 0) x^y is flat in y. For a
        # negative base the exponent is an integer constant, whose gradient nobody reads.
        dy = out * _log(x) if _number(x) > 0.0 else 0.0
        return (dx, dy)

    def __neg__(self) -> Value:
        out = -self.data
        return _record(out, "neg", (self,), Value.neg_rule(self.data, out))

    @derivative("neg")
    def neg_rule(x, out):  # d(-x)/dx = -1
        return (-1.0,)

    def __radd__(self, other: float) -> Value:  # 2 + x
        return self + other if _is_real(other) else NotImplemented

    def __rmul__(self, other: float) -> Value:  # 2 * x
        return self * other if _is_real(other) else NotImplemented

    def __rsub__(self, other: float) -> Value:  # 2 - x
        return Value(other) - self if _is_real(other) else NotImplemented

    def __rtruediv__(self, other: float) -> Value:  # 2 / x
        return Value(other) / self if _is_real(other) else NotImplemented

    def __rpow__(self, other: float) -> Value:  # 2 ** x
        return Value(other) ** self if _is_real(other) else NotImplemented

    # --- functions ---------------------------------------------------------------------

    def exp(self) -> Value:
        """e to the power of this value.

        >>> round(Value(1.0).exp().data, 4)
        2.7183
        """
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise _fail(OverflowError, "exp", "result too large for a float", self) from None
        return _record(out, "exp", (self,), Value.exp_rule(self.data, out))

    @derivative("exp")
    def exp_rule(x, out):  # d(e^x)/dx = e^x
        return (out,)

    def log(self) -> Value:
        """Natural logarithm; needs a positive value.

        >>> Value(1.0).log().data
        0.0
        """
        if self.data <= 0.0:
            raise _fail(ValueError, "log", "needs x > 0", self)
        out = math.log(self.data)
        return _record(out, "log", (self,), Value.log_rule(self.data, out))

    @derivative("log")
    def log_rule(x, out):  # d(ln x)/dx = 1/x
        return (1.0 / x,)

    def sqrt(self) -> Value:
        """Square root; needs a value >= 0.

        >>> Value(9.0).sqrt().data
        3.0
        """
        if self.data < 0.0:
            raise _fail(ValueError, "sqrt", "needs x >= 0", self)
        out = math.sqrt(self.data)
        return _record(out, "sqrt", (self,), Value.sqrt_rule(self.data, out))

    @derivative("sqrt")
    def sqrt_rule(x, out):  # d(sqrt x)/dx = 1/(2 sqrt x), vertical at 0
        return (0.5 / out if _number(out) > 0.0 else math.inf,)

    def tanh(self) -> Value:
        """Hyperbolic tangent, an activation with outputs in (-1, 1).

        >>> Value(0.0).tanh().data
        0.0
        """
        out = math.tanh(self.data)
        return _record(out, "tanh", (self,), Value.tanh_rule(self.data, out))

    @derivative("tanh")
    def tanh_rule(x, out):  # d(tanh x)/dx = 1 - tanh(x)^2
        return (1.0 - out * out,)

    def sigmoid(self) -> Value:
        """Logistic function 1 / (1 + e^-x), an activation with outputs in (0, 1).

        Computed without overflow for any x.

        >>> Value(0.0).sigmoid().data
        0.5
        """
        x = self.data
        if x >= 0.0:
            out = 1.0 / (1.0 + math.exp(-x))
        else:  # e^-x would overflow for very negative x; this form cannot
            e = math.exp(x)
            out = e / (1.0 + e)
        return _record(out, "sigmoid", (self,), Value.sigmoid_rule(x, out))

    @derivative("sigmoid")
    def sigmoid_rule(x, out):  # dσ/dx = σ(x) (1 - σ(x))
        return (out * (1.0 - out),)

    def relu(self) -> Value:
        """max(0, x).

        >>> Value(-2.0).relu().data, Value(3.0).relu().data
        (0.0, 3.0)
        """
        x = self.data
        out = x if x > 0.0 else 0.0
        return _record(out, "relu", (self,), Value.relu_rule(x, out))

    @derivative("relu")
    def relu_rule(x, out):  # 1 where x > 0, else 0 (we take 0 at x = 0)
        return (1.0 if x > 0.0 else 0.0,)

    def leaky_relu(self, slope: Value | float = 0.01) -> Value:
        """x for x > 0, else slope * x. The slope is an input too, so it can be learned.

        >>> Value(-2.0).leaky_relu(0.1).data
        -0.2
        """
        slope = _operand(slope, "leaky_relu")
        x = self.data
        out = x if x > 0.0 else slope.data * x
        return _record(out, "leaky_relu", (self, slope), Value.leaky_relu_rule(x, slope.data, out))

    @derivative("leaky_relu")
    def leaky_relu_rule(x, slope, out):  # d/dx = 1 or slope; d/dslope = 0 or x
        return (1.0, 0.0) if x > 0.0 else (slope, x)

    def abs(self) -> Value:
        """|x|.

        >>> Value(-2.5).abs().data
        2.5
        """
        out = abs(self.data)
        return _record(out, "abs", (self,), Value.abs_rule(self.data, out))

    @derivative("abs")
    def abs_rule(x, out):  # sign of x (0 at 0)
        return (1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0,)

    __abs__ = abs

    # --- backward pass -----------------------------------------------------------------

    def backward(
        self,
        seed: float = 1.0,
        *,
        break_on: Value | str | Callable[[BackwardStep], bool] | None = None,
        on_break: Callable[[BackwardStep], object] | None = None,
    ) -> None:
        """Fill ``grad`` of every node this value depends on with d(self)/d(node).

        Semantics of repeated calls: **leaf** gradients accumulate (as in PyTorch) until you
        reset them (``v.grad = 0.0`` or an optimizer's ``zero_grad()``); gradients of
        intermediate nodes are overwritten, so they hold the latest call's.

        ``break_on`` stops right before a chain-rule step is applied: give a Value (steps
        into or out of it), a label (likewise), or a predicate on the ``BackwardStep``. By
        default it opens ``pdb`` with the step in scope as ``step``; ``on_break`` is called
        with the step instead when given.

        >>> x = Value(3.0, label="x")
        >>> y = x ** 3
        >>> y.backward(); y.backward()
        >>> x.grad   # 27 + 27: leaf gradients accumulate
        54.0
        """
        if not _is_real(seed):
            raise TypeError(f"backward(seed): seed must be a real number, not {seed!r}")
        if on_break is not None and not callable(on_break):
            raise TypeError(f"backward(on_break): expected a function of a step, not {on_break!r}")
        if on_break is not None and break_on is None:
            raise ValueError("backward(on_break): needs break_on, which says where to stop")
        should_break = _breakpoint_test(break_on)  # a bad break_on fails before any change
        if _mode.get().anomaly:
            _check_gradients(self, float(seed))  # raises before any gradient changes
        if break_on is None and not _hooks:
            _fast_backward(self, float(seed))
            return
        for _ in _backward_steps(self, float(seed), should_break, on_break):
            pass

    def backward_steps(self, seed: float = 1.0) -> Iterator[BackwardStep]:
        """Run the backward pass one chain-rule application at a time.

        Yields a ``BackwardStep`` per (node, input) edge, in the order ``backward()`` uses,
        after applying it. Stop early and the gradients are as accumulated so far; run to
        the end and they are exactly what ``backward()`` leaves.

        >>> a = Value(2.0, label="a")
        >>> b = (a * a).tanh()
        >>> [(s.node.op, s.input.label or s.input.op) for s in b.backward_steps()]
        [('tanh', '*'), ('*', 'a'), ('*', 'a')]
        """
        if not _is_real(seed):
            raise TypeError(f"backward_steps(seed): seed must be a real number, not {seed!r}")
        if _mode.get().anomaly:
            _check_gradients(self, float(seed))  # as backward(): raises before any change
        return _backward_steps(self, float(seed), None, None)

    def register_hook(self, hook: Callable[[Value], object]) -> HookHandle:
        """Call ``hook(self)`` during each backward pass, as soon as ``self.grad`` is complete.

        Returns a handle whose ``remove()`` takes the hook away. A hook that raises stops
        the backward pass there, with the gradients accumulated so far (as when you stop
        ``backward_steps()`` half-way).

        >>> x = Value(2.0, label="x")
        >>> handle = x.register_hook(lambda v: print(v.label, v.grad))
        >>> (x * 3).backward()
        x 3.0
        >>> handle.remove()
        """
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, not {hook!r}")
        _hooks.setdefault(self, []).append(hook)
        return HookHandle(self, hook)

    def detach(self) -> Value:
        """A new leaf with the same data (and label): gradients do not flow through it."""
        return Value(self.data, self.label)

    def zero_grad(self) -> None:
        """Set this node's grad to 0.0."""
        self.grad = 0.0


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


def _node(data: float, op: str, inputs: tuple[Value, ...], local_grads: tuple) -> Value:
    """A Value with every field given: the engine's own constructor (checked data only)."""
    node = Value.__new__(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.op = op
    node.inputs = inputs
    node.local_grads = local_grads
    return node


def _record(data: float, op: str, inputs: tuple[Value, ...], local_grads: tuple) -> Value:
    """Make the node for ``op`` from its data, its inputs and its local derivatives."""
    mode = _mode.get()
    if mode.record:
        node = _node(data, op, inputs, local_grads)
    else:  # no_grad(): a leaf
        node = _node(data, "", (), ())
    if mode.anomaly:
        _origins[node] = _caller_line()
        if not math.isfinite(data):
            raise AnomalyError(
                f"{op} gave {data!r} from inputs {_describe(inputs)} (created at {_origins[node]})"
            )
    return node


def _operand(other: object, op: str) -> Value:
    """The other side of a binary operation, as a Value (numbers become constant leaves)."""
    if isinstance(other, Value):
        return other
    if _is_real(other):
        return _node(float(other), "", (), ())  # a constant leaf, without __init__'s checks
    raise TypeError(
        f"{op}: unsupported operand {type(other).__name__} {other!r}; "
        "expected a Value or a real number"
    )


# --- operations with many inputs ---------------------------------------------------------


def sum_values(values: Iterable[Value | float]) -> Value:
    """The sum of many values as one node (cheaper than a chain of ``+``).

    >>> s = sum_values([Value(1.0), Value(2.0), 3.0])
    >>> s.data, s.op, s.local_grads
    (6.0, 'sum', (1.0, 1.0, 1.0))
    """
    inputs = tuple(_operand(v, "sum") for v in values)
    if not inputs:
        raise ValueError("sum_values: needs at least one value; got none")
    out = math.fsum(v.data for v in inputs)
    return _record(out, "sum", inputs, sum_rule(*(v.data for v in inputs), out))


@derivative("sum")
def sum_rule(*inputs_and_out):  # d(x1 + ... + xn)/dxi = 1
    return (1.0,) * (len(inputs_and_out) - 1)


def weighted_sum(
    weights: Sequence[Value | float], activations: Sequence[Value | float], bias: Value | float
) -> Value:
    """A neuron's weighted input z = w1*a1 + ... + wn*an + b, as one node.

    Inputs are ordered (w1..wn, a1..an, b); the local gradients are the activations (for the
    weights), the weights (for the activations) and 1 (for the bias).

    >>> w = [Value(0.5), Value(-1.0)]
    >>> z = weighted_sum(w, [2.0, 3.0], Value(0.25))
    >>> z.data, z.local_grads
    (-1.75, (2.0, 3.0, 0.5, -1.0, 1.0))
    """
    if len(weights) != len(activations):
        raise ValueError(
            f"weighted_sum: needs as many weights as activations; "
            f"got {len(weights)} weights and {len(activations)} activations"
        )
    # Numbers become constant leaves; anything else is refused with the op's name.
    weights = [w if isinstance(w, Value) else _operand(w, "weighted_sum") for w in weights]
    activations = [a if isinstance(a, Value) else _operand(a, "weighted_sum") for a in activations]
    bias = _operand(bias, "weighted_sum")
    w = [v.data for v in weights]
    a = [v.data for v in activations]
    out = sum(map(operator.mul, w, a), bias.data)
    return _record(
        out,
        "weighted_sum",
        (*weights, *activations, bias),
        weighted_sum_rule(*w, *a, bias.data, out),
    )


@derivative("weighted_sum")
def weighted_sum_rule(*inputs_and_out):  # dz/dwi = ai, dz/dai = wi, dz/db = 1
    n = (len(inputs_and_out) - 2) // 2
    weights, activations = inputs_and_out[:n], inputs_and_out[n : 2 * n]
    return (*activations, *weights, 1.0)


# --- graph traversal ---------------------------------------------------------------------


def topological_order(root: Value, stop: Callable[[Value], bool] | None = None) -> list[Value]:
    """Every node ``root`` depends on, each after all its inputs (``root`` last).

    Iterative depth-first search, so a chain of a million nodes is fine. A node for which
    ``stop(node)`` is true is placed like a leaf: what it was computed from is not visited.

    >>> a = Value(1.0, label="a")
    >>> [v.label or v.op for v in topological_order(a * a + a)]
    ['a', '*', '+']
    """
    order: list[Value] = []
    seen = {root}
    stack = [(root, iter(root.inputs))]
    while stack:
        node, pending = stack[-1]
        for child in pending:
            if child not in seen:
                seen.add(child)
                if not child.inputs or (stop is not None and stop(child)):
                    # a leaf (or a stop) has nothing to wait for: place it now
                    order.append(child)
                    continue
                stack.append((child, iter(child.inputs)))
                break
        else:  # every input is placed: the node can follow them
            stack.pop()
            order.append(node)
    return order


def _start_backward(root: Value, seed: float) -> list[Value]:
    """Order the graph, reset intermediate gradients and seed the root."""
    order = topological_order(root)
    for node in order:
        if node.inputs:
            node.grad = 0.0
    if root.inputs:
        root.grad = seed
    else:
        root.grad += seed
    return order


def _fast_backward(root: Value, seed: float) -> None:
    """backward() without steps, hooks or breakpoints: the chain rule in four lines."""
    for node in reversed(_start_backward(root, seed)):
        upstream = node.grad
        for input_, local_grad in zip(node.inputs, node.local_grads):
            input_.grad += local_grad * upstream


@dataclass(frozen=True)
class BackwardStep:
    """One application of the chain rule: ``input.grad += local_grad * upstream``.

    ``upstream`` is d(output)/d(node), complete when the step runs; ``local_grad`` is
    d(node)/d(input); ``contribution`` is their product; ``input_grad`` is the input's
    gradient after adding it. ``index`` is the position of ``input`` among the node's
    inputs and ``number`` counts steps from 0.
    """

    number: int
    node: Value
    input: Value
    index: int
    local_grad: float
    upstream: float
    contribution: float
    input_grad: float

    def __str__(self) -> str:
        from autograd_lite.narrate import describe_step

        return describe_step(self)


def _breakpoint_test(
    break_on: Value | str | Callable[[BackwardStep], bool] | None,
) -> Callable[[BackwardStep], bool] | None:
    if break_on is None:
        return None
    if isinstance(break_on, Value):
        return lambda step: step.node is break_on or step.input is break_on
    if isinstance(break_on, str):
        if not break_on:  # "" would match every unlabelled node
            raise ValueError("backward(break_on): a label to stop at must not be empty")
        return lambda step: break_on in (step.node.label, step.input.label)
    if callable(break_on):
        return break_on
    raise TypeError(
        f"backward(break_on): expected a Value, a label or a predicate, not {break_on!r}"
    )


def _open_debugger(step: BackwardStep) -> None:
    """Stop in pdb right before ``step`` is applied. Type ``p step`` to see it."""
    print(f"backward: stopped before step {step.number}: {step}", file=sys.stderr)
    # Stop in the caller, on the line that applies the step (``step`` is in scope there too).
    pdb.Pdb().set_trace(sys._getframe().f_back)


def _backward_steps(
    root: Value,
    seed: float,
    should_break: Callable[[BackwardStep], bool] | None,
    on_break: Callable[[BackwardStep], object] | None,
) -> Iterator[BackwardStep]:
    """The backward pass as a generator of applied steps (same order as _fast_backward)."""
    number = 0
    for node in reversed(_start_backward(root, seed)):
        for hook in list(_hooks.get(node, ())):
            hook(node)  # node.grad is complete: every consumer has been processed
        upstream = node.grad
        for index, (input_, local_grad) in enumerate(zip(node.inputs, node.local_grads)):
            contribution = local_grad * upstream
            step = BackwardStep(
                number, node, input_, index, local_grad, upstream, contribution,
                input_.grad + contribution,
            )  # fmt: skip
            if should_break is not None and should_break(step):
                (on_break or _open_debugger)(step)
            input_.grad = step.input_grad
            number += 1
            yield step


def _check_gradients(root: Value, seed: float) -> None:
    """Under detect_anomaly(): find the first NaN/inf gradient without changing any grad."""
    for node, input_, contribution in _contributions(root, seed, {}):
        if not math.isfinite(contribution):
            where = _origins.get(node, "a place outside detect_anomaly()")
            raise AnomalyError(
                f"backward through {node.op} gave a gradient of {contribution!r} for input "
                f"{_describe([input_])} (inputs {_describe(node.inputs)}; node created at {where})"
            )


def _contributions(
    root: Value, seed: float, grads: dict, create_graph: bool = False
) -> Iterator[tuple[Value, Value, float | Value]]:
    """(node, input, contribution) in backward order, summed into ``grads``, not ``.grad``.

    With ``create_graph`` the local derivatives are the op's rule evaluated on Values.
    """
    grads[root] = seed
    for node in reversed(topological_order(root)):
        if not node.inputs:
            continue
        upstream = grads[node]  # complete: every consumer of node came earlier
        if create_graph:  # the same rule, evaluated on Values this time
            local = DERIVATIVES[node.op](*node.inputs, node)
        else:
            local = node.local_grads
        for input_, local_grad in zip(node.inputs, local):
            contribution = local_grad * upstream
            grads[input_] = grads[input_] + contribution if input_ in grads else contribution
            yield node, input_, contribution


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
    if not isinstance(output, Value):
        raise TypeError(f"grad(output): expected a Value, not {type(output).__name__}")
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"grad(inputs): expected Values, got {type(x).__name__}: {x!r}")
    grads: dict[Value, float | Value] = {}
    for _ in _contributions(output, 1.0, grads, create_graph):
        pass
    if create_graph:
        return [_as_value(grads.get(x, 0.0)) for x in inputs]
    return [float(grads.get(x, 0.0)) for x in inputs]


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
    if not (_is_real(eps) and eps > 0.0):
        raise ValueError(f"gradcheck: eps must be a positive number, got {eps!r}")
    leaves = [v.detach() if isinstance(v, Value) else Value(v) for v in inputs]
    for i, leaf in enumerate(leaves):
        leaf.label = leaf.label or f"input {i}"
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, not {type(out).__name__}")
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
