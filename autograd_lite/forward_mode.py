"""Forward mode: directional derivatives (``jvp``) and Hessian-vector products (``hvp``).

Every node already stores d(node)/d(input) for each input (``local_grads``, from its op's
rule). Reverse mode multiplies them from the output back; forward mode multiplies them from
the inputs forward. Give each input a *tangent* -- how fast it moves along a chosen
direction -- and every node's tangent follows, the moment the node is made::

    tangent(node) = local_grad_1 * tangent(input_1) + ... + local_grad_n * tangent(input_n)

So the output's tangent is the derivative of the output along that direction, after one
forward pass, with no derivative written here: any op that records ``local_grads`` works,
the n-ary ones and a user's own included. ``docs/forward-mode.md`` counts when this beats
``backward()`` (one input, many outputs) and when it loses (many weights, one error).

How: the engine's ``record()`` calls the current mode's ``observe(node, op, inputs)`` for
every new node (``modes.py``, the hook ``detect_anomaly()`` uses); ``jvp`` installs an
observer that computes the node's tangent there. That is true forward mode -- each tangent
is known as soon as its node is, and nothing walks the graph afterwards -- and it sees
every node f makes, including ones the output does not depend on.

>>> jvp(lambda x, y: x * y + x, [3.0, 2.0], [1.0, 0.0])   # d/dx (xy + x) = y + 1
(9.0, 3.0)
>>> hvp(lambda x, y: x * x * y, [3.0, 2.0], [1.0, 0.0])   # H = [[2y, 2x], [2x, 0]]
(18.0, [12.0, 9.0], [4.0, 6.0])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from autograd_lite.checks import check_callable, check_instance, check_number
from autograd_lite.engine import Value, data_of
from autograd_lite.gradients import grad
from autograd_lite.modes import changed_mode, mode
from autograd_lite.names import input_name

__all__ = ["Tangents", "hvp", "jvp"]


class Tangents:
    """The tangent of every node made while ``watching()``, in ``of`` ({node: tangent}).

    A node that does not depend on the seeded leaves (a constant, a model's weight, a result
    of ``no_grad()`` or ``detach()``) has no entry: its tangent is exactly 0.

    >>> x = Value(2.0)
    >>> tangents = Tangents({x: 1.0})
    >>> with tangents.watching():
    ...     y = x * x * 5.0
    >>> tangents.of[y]   # d(5x^2)/dx = 10x
    20.0
    """

    __slots__ = ("of", "_previous")

    def __init__(self, seeds: dict[Value, float]) -> None:
        self.of: dict[Value, float] = dict(seeds)
        self._previous: Callable[[Value, str, tuple], None] | None = None

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Inside the block, every new node gets its tangent. Operations record even inside
        an enclosing ``no_grad()``: the local derivatives are what forward mode multiplies."""
        self._previous = mode.get().observe  # detect_anomaly() keeps watching too
        with changed_mode(record=True, observe=self._observe):
            yield

    def _observe(self, node: Value, op: str, inputs: tuple) -> None:
        if self._previous is not None:
            self._previous(node, op, inputs)
        of = self.of
        tangent = None
        # A no_grad() inside f leaves the node a leaf (no local_grads): a constant, tangent 0.
        for input_, local_grad in zip(node.inputs, node.local_grads):
            input_tangent = of.get(input_)
            if input_tangent is not None:  # no entry: tangent 0, and no 0 * inf = NaN
                term = data_of(local_grad) * input_tangent
                tangent = term if tangent is None else tangent + term
        if tangent is not None:
            of[node] = tangent

    def __call__(self, value: Value) -> float:
        """The tangent of ``value``: 0.0 when it does not depend on the seeded leaves."""
        return self.of.get(value, 0.0)


def jvp(
    f: Callable[..., Value | Sequence[Value]],
    primals: Sequence[float],
    tangents: Sequence[float],
) -> tuple[float, float] | tuple[list[float], list[float]]:
    """``(f(primals), directional derivative)``: the value of ``f`` at ``primals`` and its
    derivative along ``tangents`` (the Jacobian-vector product), in one forward pass.

    ``f`` takes one Value per primal (leaves labelled ``x0``, ``x1``, ...) and returns a
    Value, or a list of Values (then both results are lists: one forward pass gives the
    derivative of every output along the direction). ``tangents[i]`` says how fast primal
    ``i`` moves: ``[1, 0, ...]`` gives d f/d x0. No ``.grad`` anywhere is touched. NaN and
    inf are allowed, as in the engine.

    >>> from autograd_lite import Value
    >>> jvp(lambda x: x.tanh(), [0.0], [1.0])           # tanh'(0) = 1
    (0.0, 1.0)
    >>> jvp(lambda x, y: [x * y, x + y], [2.0, 5.0], [1.0, 1.0])
    ([10.0, 7.0], [7.0, 2.0])
    """
    leaves, seeds = _checked_arguments("jvp", f, primals, tangents, "tangents")
    tangent_of = Tangents(seeds)
    with tangent_of.watching():
        out = f(*leaves)
    if isinstance(out, Value):
        return out.data, tangent_of(out)
    outputs = _outputs("jvp", out)
    return [v.data for v in outputs], [tangent_of(v) for v in outputs]


def hvp(
    f: Callable[..., Value], primals: Sequence[float], vector: Sequence[float]
) -> tuple[float, list[float], list[float]]:
    """``(f(primals), gradient, H @ vector)``: the value, the gradient and the Hessian times
    ``vector``, without building the Hessian.

    Forward over reverse: the gradient is built as Values by ``grad(create_graph=True)``
    (each op's rule evaluated on Values) while the tangents of ``jvp`` ride along, seeded
    with ``vector``; the tangent of gradient entry i is (H v)_i. One forward pass and one
    backward pass, no third pass (reverse over reverse would walk the gradient's graph
    backwards once more, from Σ g_i v_i), and the gradient comes for free; see
    docs/forward-mode.md. ``f`` takes one Value per primal and returns one Value.

    >>> hvp(lambda x, y: x * y, [1.0, 2.0], [1.0, 0.0])   # H = [[0, 1], [1, 0]]
    (2.0, [2.0, 1.0], [0.0, 1.0])
    """
    leaves, seeds = _checked_arguments("hvp", f, primals, vector, "vector")
    tangent_of = Tangents(seeds)
    with tangent_of.watching():
        out = f(*leaves)
        check_instance("hvp", "what f returns", out, Value, "a Value")
        gradient = grad(out, leaves, create_graph=True)
    return out.data, [g.data for g in gradient], [tangent_of(g) for g in gradient]


# --- arguments -------------------------------------------------------------------------------


def _checked_arguments(
    call: str, f: object, primals: object, directions: object, name: str
) -> tuple[list[Value], dict[Value, float]]:
    """The primals as labelled leaves and {leaf: its tangent}, once every argument is checked."""
    check_callable(call, "f", f)
    at = _numbers(call, "primals", primals)
    along = _numbers(call, name, directions)
    if not at:
        raise ValueError(f"{call}: primals must hold at least one number, got {primals!r}")
    if len(at) != len(along):
        raise ValueError(
            f"{call}: primals and {name} must have the same length, "
            f"got lengths {len(at)} and {len(along)}"
        )
    leaves = [Value(x, input_name(i)) for i, x in enumerate(at)]
    return leaves, dict(zip(leaves, along))


def _numbers(call: str, name: str, values: object) -> list[float]:
    """``values`` as floats: a list, a tuple or a NumPy array of real numbers (not text)."""
    if not hasattr(values, "__array__"):  # a NumPy array is a sequence in all but name
        kind = () if isinstance(values, (str, bytes)) else Sequence  # text: a sequence of letters
        check_instance(call, name, values, kind, "a sequence of numbers")
    return [
        check_number(call, f"{name}[{i}]", x, finite=False)
        for i, x in enumerate(values)  # type: ignore[arg-type]
    ]


def _outputs(call: str, out: object) -> list[Value]:
    """What f returned, as a non-empty list of Values, or a TypeError naming it."""
    if not isinstance(out, (list, tuple)) or not out or not all(isinstance(v, Value) for v in out):
        raise TypeError(
            f"{call}: what f returns must be a Value or a list of Values, "
            f"got {type(out).__name__} {out!r}"
        )
    return list(out)
