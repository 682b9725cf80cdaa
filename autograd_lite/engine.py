"""The engine: one scalar ``Value`` per node of a computation graph.

Each operation makes a Value that remembers ``op``, its ``inputs`` and its ``local_grads``
(d(node)/d(input), computed in the forward pass). Read top to bottom: the node, each
operation (``@operation``) followed by its derivative rule (``@derivative``: the one place
that derivative is written; replays and exports read both, ``expressions.py``), the graph
walk, and the one chain-rule loop,
``backpropagate``: ``input.grad += local_grad * upstream``. The other rooms (``sums``,
``modes``, ``debugging``, ``gradients``, ``checks``) are mapped in ``docs/engine.md``.

>>> a = Value(2.0, label="a")
>>> b = Value(-3.0, label="b")
>>> c = a * b + a
>>> c.backward()
>>> c.data, a.grad, b.grad
(-4.0, -2.0, 2.0)
"""

from __future__ import annotations

import inspect
import math
import operator
import weakref
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from autograd_lite import checks, elementary
from autograd_lite.modes import SPECIAL_MODES, mode

__all__ = ["COMPARISON_WATCHERS", "DERIVATIVES", "OPERATIONS", "RULE_CONDITIONS", "Debugger",
           "NoDebugger", "Value", "apply_rule", "backpropagate", "backpropagate_fast",
           "backpropagate_steps", "data_of", "derivative", "input_spans", "operand", "operation",
           "record", "taken_on", "topological_order", "use_debugger"]  # fmt: skip

Rule = Callable[..., tuple]
Forward = TypeVar("Forward", bound=Callable[..., Any])

# op name -> derivative rule: rule(*inputs, out) -> one partial per input, taking the inputs
# as the op's forward does (an op over lists, sums.py's, gets each list as one argument).
# The forward pass calls it with floats; grad(create_graph=True) with Values (apply_rule);
# autograd_lite.expressions with symbols, to read the derivatives off as expressions.
DERIVATIVES: dict[str, Rule] = {}

# op name -> (its forward, for each of its parameters: does it take a list of inputs?). The
# forward is the function that makes the op's node: the method, for the ops below. Nothing
# here calls it: autograd_lite.expressions runs it on symbols to read the op off as
# expressions (for replays and exported code), refusals included.
OPERATIONS: dict[str, tuple[Callable[..., Any], tuple[bool, ...]]] = {}


def derivative(op: str) -> Callable[[Rule], Rule]:
    """Register the decorated function as the derivative rule of ``op``; it stays a function."""

    def register(rule: Rule) -> Rule:
        DERIVATIVES[op] = rule
        return rule

    return register


def operation(op: str, many: Sequence[str] = ()) -> Callable[[Forward], Forward]:
    """Register the decorated function as the forward of ``op``; it stays a function.

    ``many`` names its parameters that take a list of inputs (``sums.weighted_sum``'s
    weights and activations); the others take one input each.
    """

    def register(forward: Forward) -> Forward:
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        names = [p.name for p in inspect.signature(forward).parameters.values() if p.kind in kinds]
        unknown = sorted(set(many) - set(names))
        if unknown:
            raise ValueError(f"operation({op!r}): many={unknown} are not parameters of it")
        OPERATIONS[op] = (forward, tuple(name in many for name in names))
        return forward

    return register


def input_spans(lists: Sequence[bool], count: int) -> list[tuple[int, int]]:
    """Where each parameter's inputs are among a node's ``count`` inputs, as (first,
    length): in parameter order, a list parameter's n inputs (every list has n), another's 1.

    >>> input_spans((True, True, False), 7)  # a weighted sum of 3: w1..w3, a1..a3, b
    [(0, 3), (3, 3), (6, 1)]
    """
    n = (count - lists.count(False)) // max(lists.count(True), 1)
    spans, first = [], 0
    for many in lists:
        spans.append((first, n if many else 1))
        first += n if many else 1
    return spans


def apply_rule(op: str, inputs: Sequence[Any], out: Any) -> tuple:
    """``op``'s derivative rule on a node's inputs (as the node keeps them, in one tuple)
    and its result; an op over lists gets each of its lists as one argument.

    >>> apply_rule("*", (2.0, 3.0), 6.0)
    (3.0, 2.0)
    """
    rule = DERIVATIVES[op]
    _, lists = OPERATIONS.get(op, (None, ()))
    if True not in lists:
        return rule(*inputs, out)
    groups = [inputs[first : first + length] if many else inputs[first]
              for many, (first, length) in zip(lists, input_spans(lists, len(inputs)))]  # fmt: skip
    return rule(*groups, out)


def _fail(error: type[Exception], op: str, why: str, *operands: Value) -> Exception:
    return error(f"{op}: {why}; got {checks.describe_operands(operands)}")


def data_of(x: Value | float) -> float:
    """The float inside a Value, or the number itself: for rules, which take either. (A
    symbol, which a rule gets when it is read off as expressions, stays a symbol.)

    >>> data_of(Value(2.5)), data_of(3)
    (2.5, 3.0)
    """
    if type(x) is float:  # the forward pass's case first
        return x
    if isinstance(x, Value):
        return x._data
    return float(x) if checks.is_number(x) else x  # type: ignore[return-value]


# A comparison is a decision the forward pass takes by looking at numbers: a replay of the
# graph must check it again (autograd_lite.program.decisions). While a block records decisions,
# its watcher is in this list and every comparison reports to it; nearly always the list is
# empty, and a comparison pays one test (the way ``record`` reads SPECIAL_MODES).
COMPARISON_WATCHERS: list[Callable[[Callable, Value, object, bool], None]] = []


def _compare(compare: Callable[[float, float], bool], x: Value, other: object) -> bool:
    """``compare`` on the data; NotImplemented for a non-number (Python then says why)."""
    if isinstance(other, Value):
        taken = compare(x._data, other._data)
    elif checks.is_number(other):
        taken = compare(x._data, other)
    else:
        return NotImplemented
    if COMPARISON_WATCHERS:
        COMPARISON_WATCHERS[-1](compare, x, other, taken)
    return taken


# A rule run on Values (grad(create_graph=True)) builds the branch its numbers chose. Where
# that branch put a constant into the new graph (x^y is flat in y at x <= 0: d/dy = 0), a
# replay at other numbers would keep the constant; so the rule states the condition its
# branch was taken on, with the partial it returned (``taken_on``). ``trace`` checks those
# of the partials in the loss's graph at every replay (autograd_lite.program.decisions); a
# partial the loss does not use (the exponent's, in (y - t) ** 2) checks nothing. Weak keys:
# an entry goes with its graph. {partial: [(left, test, right, taken, op), ...]}
RULE_CONDITIONS: weakref.WeakKeyDictionary[Value, list[tuple]] = weakref.WeakKeyDictionary()
_TESTS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def taken_on(op: str, partial: Value | float, *conditions: tuple[Value, str, float]) -> Value:
    """``partial`` as ``op``'s rule returns it on Values, a number as a constant leaf, with
    the conditions ``(left, test, right)`` (``left test right``: a Value, one of ``< <= >
    >=``, a number) its branch was taken on, as they are now: a replay checks them. (A
    number as ``left`` cannot change: nothing to state.)

    >>> x = Value(0.0, label="x")
    >>> slope = taken_on("**", 0.0, (x, "<=", 0.0))  # x^y is flat in y at x <= 0
    >>> [(left.label, test, right, taken) for left, test, right, taken, _ in RULE_CONDITIONS[slope]]
    [('x', '<=', 0.0, True)]
    """
    if not isinstance(partial, Value):
        partial = Value(partial)
    stated = RULE_CONDITIONS.setdefault(partial, [])
    for left, test, right in conditions:
        if test not in _TESTS:
            raise ValueError(f"taken_on({op!r}): test must be one of < <= > >=, got {test!r}")
        if not isinstance(left, Value):
            continue
        stated.append((left, test, right, _TESTS[test](left._data, right), op))
    return partial


# --- the node ----------------------------------------------------------------------------


class Value:
    """A scalar that remembers how it was computed, so gradients can flow back through it.

    * ``data``        -- the number (a float; NaN and inf allowed, as in PyTorch);
    * ``grad``        -- d(output)/d(this) after ``output.backward()``; 0.0 at start;
    * ``label``       -- a name for pictures, narrations and error messages;
    * ``op``          -- the operation that made this node ("" for a leaf);
    * ``inputs``      -- the Values it was computed from, in order;
    * ``local_grads`` -- d(this)/d(input) for each input, in the same order.

    Setting ``data`` or ``label`` to the wrong kind is a TypeError on the spot. Operators
    given neither a Value nor a number return ``NotImplemented`` when the other operand
    may answer (``Value(2.0) * numpy.array([1, 2])``); see docs/engine.md.

    >>> w = Value(0.5, label="w")
    >>> z = w * 4.0
    >>> z.op, z.local_grads
    ('*', (4.0, 0.5))
    >>> [round(f(Value(0.5)).data, 4) for f in (Value.exp, Value.log, Value.sqrt, Value.abs)]
    [1.6487, -0.6931, 0.7071, 0.5]
    >>> [f(Value(-2.0)).data for f in (Value.tanh, Value.sigmoid, Value.relu, Value.leaky_relu)]
    [-0.9640275800758169, 0.11920292202211755, 0.0, -0.02]
    """

    # ``data`` and ``label`` are properties over ``_data`` and ``_label``, checked on writes;
    # the engine reads and writes the slots. ``_mark`` belongs to topological_order().
    __slots__ = ("_data", "grad", "_label", "op", "inputs", "local_grads", "_mark", "__weakref__")

    _data: float
    grad: float
    _label: str
    op: str
    inputs: tuple[Value, ...]
    local_grads: tuple

    def __init__(self, data: float, label: str = "") -> None:
        self._data = checks.check_number("Value", "data", data, finite=False)
        self._label = checks.check_instance("Value", "label", label, str, "a str")
        self.grad = 0.0
        self.op = ""
        self.inputs = self.local_grads = ()
        self._mark = None

    def _set_data(self, value: float) -> None:
        if type(value) is not float:  # refused here, not later in some operation
            where = f"Value {self._label!r}" if self._label else "Value"
            value = checks.check_number(
                f"{where}: setting .data", "the new data", value, finite=False
            )
        self._data = value

    def _set_label(self, label: str) -> None:  # a narration or a picture would fail later
        self._label = checks.check_instance(
            "Value: setting .label", "the new label", label, str, "a str"
        )

    # Reads go straight to the slot (attrgetter is C): the operations pay nothing.
    data = property(attrgetter("_data"), _set_data, doc="The number (a float).")
    label = property(attrgetter("_label"), _set_label, doc="A name for pictures and narrations.")

    def __repr__(self) -> str:
        name = f"label={self._label!r}, " if self._label else ""
        op = f"op={self.op!r}, " if self.op else ""
        return f"Value({name}{op}data={self._data:.6g}, grad={self.grad:.6g})"

    def __float__(self) -> float:
        return self._data

    # Comparisons look at data and return a bool (a decision: inside record_decisions() it
    # is recorded, so replays check it). There is no __eq__: Values are graph nodes,
    # compared and hashed by identity, so they can live in sets and dicts.
    def __lt__(self, other: Value | float) -> bool:
        return _compare(operator.lt, self, other)

    def __le__(self, other: Value | float) -> bool:
        return _compare(operator.le, self, other)

    def __gt__(self, other: Value | float) -> bool:
        return _compare(operator.gt, self, other)

    def __ge__(self, other: Value | float) -> bool:
        return _compare(operator.ge, self, other)

    # --- arithmetic: forward rule, then derivative rule -------------------------------

    @operation("+")
    def __add__(self, other: Value | float) -> Value:
        if type(other) is not Value:
            other = operand(other, "+")
            if other is NotImplemented:  # Python asks the other operand next (numpy, ...)
                return other
        x, y = self._data, other._data
        out = x + y
        return record(out, "+", (self, other), Value.add_rule(x, y, out))

    @derivative("+")
    def add_rule(x: float, y: float, out: float) -> tuple:
        """d(x+y)/dx = 1, d(x+y)/dy = 1"""
        return (1.0, 1.0)

    @operation("*")
    def __mul__(self, other: Value | float) -> Value:
        if type(other) is not Value:
            other = operand(other, "*")
            if other is NotImplemented:  # Python asks the other operand next (numpy, ...)
                return other
        x, y = self._data, other._data
        out = x * y
        return record(out, "*", (self, other), Value.mul_rule(x, y, out))

    @derivative("*")
    def mul_rule(x: float, y: float, out: float) -> tuple:
        """d(xy)/dx = y, d(xy)/dy = x"""
        return (y, x)

    @operation("-")
    def __sub__(self, other: Value | float) -> Value:
        if type(other) is not Value:
            other = operand(other, "-")
            if other is NotImplemented:  # Python asks the other operand next (numpy, ...)
                return other
        x, y = self._data, other._data
        out = x - y
        return record(out, "-", (self, other), Value.sub_rule(x, y, out))

    @derivative("-")
    def sub_rule(x: float, y: float, out: float) -> tuple:
        """d(x-y)/dx = 1, d(x-y)/dy = -1"""
        return (1.0, -1.0)

    @operation("/")
    def __truediv__(self, other: Value | float) -> Value:
        other = operand(other, "/")
        if other is NotImplemented:
            return other
        if other._data == 0.0:
            raise _fail(ZeroDivisionError, "/", "division by zero", self, other)
        x, y = self._data, other._data
        out = x / y
        return record(out, "/", (self, other), Value.div_rule(x, y, out))

    @derivative("/")
    def div_rule(x: float, y: float, out: float) -> tuple:
        """d(x/y)/dx = 1/y, d(x/y)/dy = -x/y^2 = -out/y"""
        return (1.0 / y, -out / y)

    @operation("**")
    def __pow__(self, other: Value | float) -> Value:
        other = operand(other, "**")
        if other is NotImplemented:
            return other
        x, y = self._data, other._data
        if x == 0.0 and y < 0.0:
            raise _fail(ZeroDivisionError, "**", "0 to a negative power", self, other)
        if x < 0.0 and elementary.isfinite(y) and not y.is_integer():  # (-2) ** nan is nan
            raise _fail(ValueError, "**", "negative base to a non-integer power", self, other)
        try:
            out = x**y
        except OverflowError:
            raise _fail(OverflowError, "**", "result too large for a float", self, other) from None
        try:
            slopes = Value.pow_rule(x, y, out)
        except OverflowError:  # x^(y-1) beyond floats where x^y is not: 1e-200 ** -1.0
            why = "its slope y·x^(y-1) is too large for a float"
            raise _fail(OverflowError, "**", why, self, other) from None
        return record(out, "**", (self, other), slopes)

    @derivative("**")
    def pow_rule(x: float, y: float, out: float) -> tuple:
        """d(x^y)/dx = y x^(y-1), d(x^y)/dy = x^y ln x"""
        base = data_of(x)  # (a NaN base: NaN stays)
        # At x = 0, d/dx is flat for y = 0 and vertical for 0 < y < 1.
        if base == 0.0 and data_of(y) < 1.0:
            dx = 0.0 if data_of(y) == 0.0 else math.inf
            if dx and (isinstance(x, Value) or isinstance(y, Value)):  # create_graph=True
                # y * x^(y-1), whose x^(y-1) = inf "**" refuses: its slopes are
                # (y-1) x^(y-2) = -inf and x^(y-1) ln x = -inf, so the second derivatives
                # come out as PyTorch's: d/dx = -inf, d/dy = inf - inf = NaN.
                x, y = operand(x, "**"), operand(y, "**")
                dx = y * record(math.inf, "**", (x, y - 1.0), (-math.inf, -math.inf))
        else:
            dx = y * x ** (y - 1.0)
        # d/dy needs x > 0; at x = 0 (y > 0) x^y is flat in y. For a negative base the
        # exponent is an integer constant, whose gradient nobody reads.
        dy = out * elementary.log(x) if base > 0.0 else 0.0 if base <= 0.0 else math.nan
        if base is x or not isinstance(out, Value):  # a float (data_of gave it back), a symbol
            return (dx, dy)
        # grad(create_graph=True): each constant partial states the branch it came from, and
        # so does ln x, which a replay at x <= 0 would refuse. (y x^(y-1) is the formula on
        # every side but x = 0 with y < 1, where a replay's ** refuses 0 to a negative power.)
        if type(dx) is float:  # 0 at x = 0, y = 0
            dx = taken_on("**", dx, (x, "<=", 0.0), (x, ">=", 0.0), (y, "<=", 0.0))
        conditions = [(x, "<=", 0.0)]
        if not (base > 0.0 or base <= 0.0):  # a NaN base: on neither side
            conditions.append((x, ">", 0.0))
        return (dx, taken_on("**", dy, *conditions))

    @operation("neg")
    def __neg__(self) -> Value:
        out = -self._data
        return record(out, "neg", (self,), Value.neg_rule(self._data, out))

    @derivative("neg")
    def neg_rule(x: float, out: float) -> tuple:
        """d(-x)/dx = -1"""
        return (-1.0,)

    def __radd__(self, other: float) -> Value:  # 2 + x
        return self + other if checks.is_number(other) else NotImplemented

    def __rmul__(self, other: float) -> Value:  # 2 * x
        return self * other if checks.is_number(other) else NotImplemented

    def __rsub__(self, other: float) -> Value:  # 2 - x
        return operand(other, "-") - self if checks.is_number(other) else NotImplemented

    def __rtruediv__(self, other: float) -> Value:  # 2 / x
        return operand(other, "/") / self if checks.is_number(other) else NotImplemented

    def __rpow__(self, other: float) -> Value:  # 2 ** x
        return operand(other, "**") ** self if checks.is_number(other) else NotImplemented

    # --- functions ---------------------------------------------------------------------

    @operation("exp")
    def exp(self) -> Value:
        """e to the power of this value."""
        try:
            out = elementary.exp(self._data)
        except OverflowError:
            raise _fail(OverflowError, "exp", "result too large for a float", self) from None
        return record(out, "exp", (self,), Value.exp_rule(self._data, out))

    @derivative("exp")
    def exp_rule(x: float, out: float) -> tuple:
        """d(e^x)/dx = e^x"""
        return (out,)

    @operation("log")
    def log(self) -> Value:
        """Natural logarithm; needs a positive value."""
        if self._data <= 0.0:
            raise _fail(ValueError, "log", "needs x > 0", self)
        out = elementary.log(self._data)
        return record(out, "log", (self,), Value.log_rule(self._data, out))

    @derivative("log")
    def log_rule(x: float, out: float) -> tuple:
        """d(ln x)/dx = 1/x"""
        return (1.0 / x,)

    @operation("sqrt")
    def sqrt(self) -> Value:
        """Square root; needs a value >= 0."""
        if self._data < 0.0:
            raise _fail(ValueError, "sqrt", "needs x >= 0", self)
        out = elementary.sqrt(self._data)
        return record(out, "sqrt", (self,), Value.sqrt_rule(self._data, out))

    @derivative("sqrt")
    def sqrt_rule(x: float, out: float) -> tuple:
        """d(sqrt x)/dx = 1/(2 sqrt x), vertical (inf) at 0"""
        if type(out) is float and not out <= 0.0:  # the forward pass's usual case, first
            return (0.5 / out,)
        if not data_of(out) <= 0.0:  # out > 0, or NaN (whose slope 0.5 / NaN is NaN)
            if not isinstance(out, Value):  # a symbol, an int
                return (0.5 / out,)
            # grad(create_graph=True): a replay at x = 0 would refuse 0.5 / 0; say why
            return (taken_on("sqrt", 0.5 / out, (out, "<=", 0.0)),)
        if isinstance(out, Value):  # grad(create_graph=True): keep d/dx (1/(2 sqrt x)) = -inf
            # 0.5 / out, which "/" refuses at 0: the node 1/(2*0) = inf, and its slope
            # d(0.5/out)/d out = -0.5/out^2 = -inf, so the chain gives -inf * inf = -inf.
            # (The formula's own node: a replay at x > 0 computes it; nothing to state.)
            half = operand(0.5, "sqrt")
            return (record(math.inf, "/", (half, out), (math.inf, -math.inf)),)
        return (math.inf,)

    @operation("tanh")
    def tanh(self) -> Value:
        """Hyperbolic tangent, an activation with outputs in (-1, 1)."""
        out = elementary.tanh(self._data)
        return record(out, "tanh", (self,), Value.tanh_rule(self._data, out))

    @derivative("tanh")
    def tanh_rule(x: float, out: float) -> tuple:
        """d(tanh x)/dx = 1 - tanh(x)^2"""
        return (1.0 - out * out,)

    @operation("sigmoid")
    def sigmoid(self) -> Value:
        """Logistic function 1 / (1 + e^-x), outputs in (0, 1); no overflow for any x."""
        x = self._data
        if x >= 0.0:
            out = 1.0 / (1.0 + elementary.exp(-x))
        else:  # e^-x would overflow for very negative x; this form cannot
            e = elementary.exp(x)
            out = e / (1.0 + e)
        return record(out, "sigmoid", (self,), Value.sigmoid_rule(x, out))

    @derivative("sigmoid")
    def sigmoid_rule(x: float, out: float) -> tuple:
        """dσ/dx = σ(x) (1 - σ(x))"""
        return (out * (1.0 - out),)

    @operation("relu")
    def relu(self) -> Value:
        """max(0, x)."""
        x = self._data
        out = 0.0 if x <= 0.0 else x  # so NaN stays NaN (as in PyTorch)
        return record(out, "relu", (self,), Value.relu_rule(x, out))

    @derivative("relu")
    def relu_rule(x: float, out: float) -> tuple:
        """1 where x > 0, 0 where x <= 0 (we take 0 at x = 0), NaN at NaN"""
        return (1.0 if x > 0.0 else 0.0 if x <= 0.0 else math.nan,)

    @operation("leaky_relu")
    def leaky_relu(self, slope: Value | float = 0.01) -> Value:
        """x for x > 0, else slope * x. The slope is an input too, so it can be learned."""
        slope = operand(slope, "leaky_relu")
        x = self._data
        out = x if x > 0.0 else slope._data * x
        return record(out, "leaky_relu", (self, slope), Value.leaky_relu_rule(x, slope._data, out))

    @derivative("leaky_relu")
    def leaky_relu_rule(x: float, slope: float, out: float) -> tuple:
        """d/dx = 1 or slope; d/dslope = 0 or x (NaN at NaN)"""
        return (1.0, 0.0) if x > 0.0 else (slope, x) if x <= 0.0 else (math.nan, math.nan)

    @operation("abs")
    def abs(self) -> Value:
        """|x|."""
        out = abs(self._data)
        return record(out, "abs", (self,), Value.abs_rule(self._data, out))

    @derivative("abs")
    def abs_rule(x: float, out: float) -> tuple:
        """d|x|/dx = sign of x (0 at 0, NaN at NaN)"""
        return (1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x >= 0.0 else math.nan,)

    __abs__ = abs

    # --- backward pass -----------------------------------------------------------------

    def backward(
        self,
        seed: float = 1.0,
        *,
        break_on: Value | str | Callable[[Any], bool] | None = None,
        on_break: Callable[[Any], object] | None = None,
    ) -> None:
        """Fill ``grad`` of every node this value depends on with d(self)/d(node): the
        chain-rule loop ``backpropagate``, run as ``backpropagate_fast`` (the same sums).

        **Leaf** gradients accumulate over calls (as in PyTorch) until you reset them
        (``v.grad = 0.0`` or an optimizer's ``zero_grad()``); gradients of intermediate
        nodes hold the latest call's. ``break_on`` (a Value, a label or a predicate on the
        step) stops before a chain-rule step, in ``pdb`` or in ``on_break(step)``: the
        debugging tools run the pass then, and while hooks or ``detect_anomaly()`` watch
        (``use_debugger``, at the end of this file).

        >>> x = Value(3.0, label="x")
        >>> y = x ** 3
        >>> y.backward(); y.backward()
        >>> x.grad   # 27 + 27: leaf gradients accumulate
        54.0
        """
        if type(seed) is not float:
            seed = checks.check_number("backward", "seed", seed, finite=False)
        if break_on is not None or on_break is not None or _debugger.watching():
            _debugger.backward(self, seed, break_on, on_break)  # the debugger runs the pass
            return
        backpropagate_fast(self, seed)  # nobody watches: the chain rule, written for speed

    def backward_steps(self, seed: float = 1.0, *, show_constants: bool = False) -> Iterator[Any]:
        """The backward pass one chain-rule step at a time: a ``BackwardStep`` per edge, in
        ``backward()``'s order, each yielded once applied (``debugging.py``). Steps into
        constants and targets are hidden unless ``show_constants``."""
        seed = checks.check_number("backward_steps", "seed", seed, finite=False)
        return _debugger.backward_steps(self, seed, show_constants)

    def register_hook(self, hook: Callable[[Value], object]) -> Any:
        """Call ``hook(self)`` in each backward pass once ``self.grad`` is complete; returns
        a handle whose ``remove()`` takes it away (``debugging.py``)."""
        return _debugger.register_hook(self, hook)

    def detach(self) -> Value:
        """A new leaf with the same data (and label): gradients do not flow through it."""
        return Value(self._data, self._label)

    def zero_grad(self) -> None:
        """Set this node's grad to 0.0."""
        self.grad = 0.0


_new_value = Value.__new__


def record(data: float, op: str, inputs: tuple[Value, ...], local_grads: tuple) -> Value:
    """The node for ``op``, from its data, its inputs and its local derivatives.

    Every operation ends here (those of ``sums.py`` too); under ``no_grad()`` it is a leaf.
    """
    node = _new_value(Value)  # every field is given: no checks needed
    node._data = data
    node.grad = 0.0
    node._label = ""
    node.op = op
    node.inputs = inputs
    node.local_grads = local_grads
    node._mark = None
    if SPECIAL_MODES:  # a no_grad() or a debugging mode exists somewhere: is it ours?
        current = mode.get()
        if not current.record:  # no_grad(): a leaf
            node.op = ""
            node.inputs = node.local_grads = ()
        if current.observe is not None:
            current.observe(node, op, inputs)
    return node


def operand(other: object, op: str) -> Value:
    """An input of ``op`` as a Value: a number becomes a constant leaf. Anything else is
    ``checks.refuse_operand``'s: NotImplemented for an operator whose other operand may
    answer, otherwise a TypeError naming ``op`` and the value."""
    if isinstance(other, Value):
        return other
    if not checks.is_number(other):
        return checks.refuse_operand(op, other)
    try:
        number = float(other)  # type: ignore[arg-type]
    except OverflowError:  # an int past the largest float (10**400): named, as Value() does
        raise checks.wrong_value(op, "a number operand", checks.FLOAT_RANGE, other) from None
    leaf = _new_value(Value)  # a constant leaf, without __init__'s checks
    leaf._data, leaf.grad, leaf._label = number, 0.0, ""
    leaf.op, leaf.inputs, leaf.local_grads, leaf._mark = "", (), (), None
    return leaf


# --- graph traversal ---------------------------------------------------------------------


def topological_order(
    root: Value,
    stop: Callable[[Value], bool] | None = None,
    leaves: bool = True,
) -> list[Value]:
    """Every node ``root`` depends on, each after all its inputs (``root`` last).

    Depth-first, inputs in order, with a stack instead of recursion, so a chain of a
    million nodes is fine. A node for which ``stop(node)`` is true is placed like a leaf:
    what it was computed from is not visited. ``leaves=False`` leaves out the leaves but
    ``root`` (the fast backward pass has nothing to do there); the other nodes keep their
    order.

    >>> a = Value(1.0, label="a")
    >>> [v.label or v.op for v in topological_order(a * a + a)]
    ['a', '*', '+']
    """
    # Each node's _mark says how far this walk is with it. A set of the nodes met would do
    # too; marks on the nodes are faster and need no memory. Each walk has its own two
    # marks, so what an earlier walk left on the nodes means nothing to this one.
    opened, placed = object(), object()
    order: list[Value] = []
    stack = [root]
    while stack:
        node = stack[-1]
        mark = node._mark
        if mark is opened:  # all its inputs are placed (they were above it): place it
            stack.pop()
            node._mark = placed
            order.append(node)
        elif mark is placed:  # reached again along another path
            stack.pop()
        else:  # first visit: its inputs go on top, the first input topmost
            node._mark = opened
            if stop is not None and stop(node):
                continue
            inputs = node.inputs
            if len(inputs) == 2:  # most nodes: the loop below, written out for speed
                first, second = inputs
                if second._mark is not placed and (leaves or second.inputs):
                    stack.append(second)
                if first._mark is not placed and (leaves or first.inputs):
                    stack.append(first)
                continue
            for child in reversed(inputs):
                if child._mark is not placed and (leaves or child.inputs):
                    stack.append(child)
    return order


# --- the chain rule ----------------------------------------------------------------------
# One loop, three ways to write it, the same sums bit for bit (tests/test_backprop_loops.py):
# ``backpropagate`` as a textbook writes it (read this one); ``backpropagate_fast``, the same
# loop written for speed, which backward() runs; ``backpropagate_steps``, the same loop one
# edge at a time, for the debugging tools. README.md and docs/engine.md quote the textbook
# loop line by line (tests/test_docs.py): change them together.


def backpropagate(root: Value, seed: float = 1.0) -> None:
    """The chain rule, from ``root`` back: ``input.grad += local_grad * upstream``, edge by edge.

    Gradients of nodes with inputs start from zero in each pass; a leaf's adds up over passes
    (as in PyTorch). ``root.grad`` gets ``seed``, d(root)/d(root).

    >>> a = Value(2.0, label="a")
    >>> b = Value(-3.0, label="b")
    >>> c = a * b + a           # a is used twice: its gradient collects both shares
    >>> backpropagate(c)
    >>> a.grad, b.grad          # dc/da = b + 1, dc/db = a
    (-2.0, 2.0)
    """
    order = topological_order(root)  # every node after its inputs, root last
    for node in order:
        if node.inputs:  # computed nodes start from 0; leaves add up over passes
            node.grad = 0.0
    root.grad += seed  # d(root)/d(root)
    for node in reversed(order):  # from root back: node.grad is complete at its turn
        upstream = node.grad
        for input_, local_grad in zip(node.inputs, node.local_grads):
            input_.grad += local_grad * upstream


def backpropagate_fast(root: Value, seed: float = 1.0) -> None:
    """``backpropagate`` written for speed: what ``backward()`` runs. The same edges in the
    same order, so the same sums, with three changes: the sort leaves out the leaves (they
    have no edges); one- and two-input nodes, most of a graph, are written out; and a node
    whose gradient is 0 is skipped when its local derivatives are finite, since it would add
    only zeros (a dead relu and all below it: half of the benchmark's nodes).

    An infinite or NaN local derivative is never skipped: 0 × inf is NaN and must reach the
    inputs. The skip's one trace is the sign of a zero: a leaf that held -0.0 before the pass
    and gets only zeros keeps -0.0, where ``backpropagate`` adds ``local_grad * 0.0`` and
    IEEE gives -0.0 + 0.0 = +0.0. ``backpropagate`` is right (PyTorch adds too); the two
    are equal (``==``) and move a weight alike, and no code of the project writes -0.0 into
    a gradient.

    >>> x = Value(3.0, label="x")
    >>> backpropagate_fast(x * x)
    >>> x.grad
    6.0
    """
    order = topological_order(root, leaves=False)  # the computed nodes, and root
    if root.inputs:  # a leaf root, alone in its order, adds up like every leaf
        for node in order:
            node.grad = 0.0
    root.grad += seed
    isfinite = math.isfinite
    for node in reversed(order):
        upstream = node.grad
        inputs = node.inputs
        if len(inputs) == 2:  # most nodes
            first_local, second_local = node.local_grads
            if upstream == 0.0 and isfinite(first_local) and isfinite(second_local):
                continue
            first, second = inputs
            first.grad += first_local * upstream
            second.grad += second_local * upstream
        elif upstream == 0.0 and all(map(isfinite, node.local_grads)):
            continue
        elif len(inputs) == 1:
            inputs[0].grad += node.local_grads[0] * upstream
        else:
            for input_, local_grad in zip(inputs, node.local_grads):
                input_.grad += local_grad * upstream


def backpropagate_steps(
    root: Value,
    seed: float,
    make_step: Callable[..., Any],
    ready: Callable[[Value], object] | None = None,
) -> Iterator[Any]:
    """``backpropagate`` one edge at a time, for the debugging tools (``debugging.py``): a
    generator that applies each edge when asked for the next one.

    Right before an edge is added it calls ``make_step(number, node, input, index,
    local_grad, upstream, contribution, input_grad)`` (``input_grad``: the input's gradient
    once the edge is added; ``number`` counts edges from 0), which may stop in ``pdb`` or
    raise; then it adds the edge and yields what ``make_step`` returned. ``ready(node)``
    runs when ``node.grad`` is complete, leaves included (hooks).

    >>> from autograd_lite.debugging import BackwardStep
    >>> x = Value(3.0, label="x")
    >>> [(s.number, s.input_grad) for s in backpropagate_steps(x * x, 1.0, BackwardStep)]
    [(0, 3.0), (1, 6.0)]
    """
    order = topological_order(root)
    for node in order:
        if node.inputs:
            node.grad = 0.0
    root.grad += seed
    number = 0
    for node in reversed(order):
        if ready is not None:
            ready(node)
        upstream = node.grad
        for index, (input_, local_grad) in enumerate(zip(node.inputs, node.local_grads)):
            contribution = local_grad * upstream
            step = make_step(
                number, node, input_, index, local_grad, upstream, contribution,
                input_.grad + contribution,
            )  # fmt: skip
            input_.grad += contribution
            number += 1
            yield step


# --- the debugging tools plug in here ----------------------------------------------------
# Hooks, breakpoints, backward_steps() and detect_anomaly() live in debugging.py, which
# imports this file; this file never imports it (no cycle). debugging.py hands itself over
# with use_debugger() when imported, and ``import autograd_lite`` imports it. Until then the
# engine runs alone: backward() works, and what needs the tools says what to import.


class Debugger(Protocol):
    """What the engine asks of the debugging tools. The package installs the module
    ``autograd_lite.debugging`` itself, whose functions of these names are the answers."""

    def watching(self) -> bool:
        """True while a plain ``backward()`` must let the debugger run the pass (a hook
        exists, or ``detect_anomaly()`` is on); asked on every ``backward()``: keep it cheap."""

    def backward(self, root: Value, seed: float, break_on: Any, on_break: Any) -> None:
        """``root.backward(seed, break_on=..., on_break=...)``, watched."""

    def backward_steps(self, root: Value, seed: float, show_constants: bool) -> Iterator[Any]:
        """``root.backward_steps(seed, show_constants=...)``."""

    def register_hook(self, node: Value, hook: Callable[[Value], object]) -> Any:
        """``node.register_hook(hook)``: a handle whose ``remove()`` takes the hook away."""


_DEBUGGER_CALLS = tuple(name for name in vars(Debugger) if not name.startswith("_"))


def _needs_debugger(what: str) -> RuntimeError:
    return RuntimeError(
        f"{what} needs the debugging tools, and none is installed: "
        "import autograd_lite.debugging (import autograd_lite does)"
    )


class NoDebugger:
    """The engine on its own: nothing watches ``backward()``, and what needs the debugging
    tools raises a RuntimeError saying what to import.

    >>> NoDebugger().register_hook(Value(1.0), print)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    RuntimeError: register_hook needs the debugging tools, and none is installed:
    import autograd_lite.debugging (import autograd_lite does)
    """

    def watching(self) -> bool:
        return False

    def backward(self, root: Value, seed: float, break_on: Any, on_break: Any) -> None:
        raise _needs_debugger("backward(break_on=..., on_break=...)")

    def backward_steps(self, root: Value, seed: float, show_constants: bool) -> Iterator[Any]:
        raise _needs_debugger("backward_steps")

    def register_hook(self, node: Value, hook: Callable[[Value], object]) -> Any:
        raise _needs_debugger("register_hook")


_debugger: Debugger = NoDebugger()


def use_debugger(debugger: Debugger) -> Debugger:
    """Hand the engine its debugging tools: from now on ``backward()`` (while they watch),
    ``backward_steps()`` and ``register_hook()`` call ``debugger``. Returns the one it
    replaces. ``autograd_lite.debugging`` calls it once, when imported.

    >>> use_debugger(print)
    Traceback (most recent call last):
    ...
    TypeError: use_debugger: debugger must have callable watching, backward, backward_steps, register_hook (engine.Debugger), got builtin_function_or_method <built-in function print>
    """  # noqa: E501
    global _debugger
    if not all(callable(getattr(debugger, name, None)) for name in _DEBUGGER_CALLS):
        raise TypeError(
            f"use_debugger: debugger must have callable {', '.join(_DEBUGGER_CALLS)} "
            f"(engine.Debugger), got {type(debugger).__name__} {debugger!r}"
        )
    previous, _debugger = _debugger, debugger
    return previous
