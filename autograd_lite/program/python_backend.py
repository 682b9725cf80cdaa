"""The pure-Python replay: flat lists of floats, no object per node, standard library only.

The interpreter below is generated from the ops' expressions (``autograd_lite.expressions``,
read off the engine's own forwards and rules: one branch per op, rendered to Python), once
per table of ops. It runs the nodes in the engine's order and applies the chain rule in
the engine's order, with the same float operations, so its results equal ``backward()``'s
bit for bit (a zero gradient may differ in its sign: a node whose gradient is 0 passes no
blame and is skipped). A node whose op refuses its inputs (the engine would raise) stops
the run with ``ReplayError``.

>>> from autograd_lite import Value
>>> from autograd_lite.program import trace
>>> a = Value(0.5, label="a")
>>> PythonReplay(trace(a.sigmoid() * a, params=[a])).run(params=[0.0])
Result(loss=0.0, gradients=[0.5], outputs=[])
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from math import isfinite

from autograd_lite.elementary import exact_sum
from autograd_lite.expressions import FoldExpressions, expressions, replayable_ops
from autograd_lite.program.backends import LEAF, Replay, Result, layout, refused
from autograd_lite.program.render import render
from autograd_lite.program.trace import Program

__all__ = ["PythonReplay", "fold_positions", "interpreter_source"]

# ops by how often a model uses them: the interpreter tests them in this order
_FREQUENT = ("weighted_sum", "relu", "tanh", "*", "+", "sigmoid", "-", "sum")


def interpreter_source(ops: Sequence[str]) -> str:
    """Source of ``forward(V, L, codes, starts, flat, computed)`` for the table ``ops``: one
    branch per op; it returns -1, or the first node whose op refuses its inputs."""
    lines = [
        "def forward(V, L, codes, starts, flat, computed):",
        "    i = -1",
        "    try:",
        "        for i in computed:",
        "            c = codes[i]",
        "            s = starts[i]",
    ]
    order = [op for op in _FREQUENT if op in ops] + [op for op in ops if op not in _FREQUENT]
    for position, op in enumerate(order):
        keyword = "if" if position == 0 else "elif"
        lines.append(f"            {keyword} c == {list(ops).index(op)}:  # {op}")
        lines.extend("                " + line for line in _branch(op))
    lines += [
        "    except (ArithmeticError, ValueError):",
        "        return i",
        "    return -1",
    ]
    return "\n".join(lines)


def _branch(op: str) -> list[str]:
    found = expressions(op)
    if isinstance(found, FoldExpressions):
        return _fold_branch(found)
    body = [f"{name} = V[flat[s + {k}]]" for k, name in enumerate(found.inputs)]
    body.append(f"out = V[i] = {render(found.forward, 'python')}")
    if found.refuse is not False:  # where the engine raises, as Python's math may not
        body.append(f"if {render(found.refuse, 'python')}: return i")
    for k, derivative in enumerate(found.derivatives):
        if not isinstance(derivative, float):  # constants are written once, at build
            body.append(f"L[s + {k}] = {render(derivative, 'python')}")
    return body


def fold_positions(fold: FoldExpressions) -> list[str]:
    """Where each group of a fold's node starts, as code: ``s``, ``s + n``, ``s + 2 * n``
    (a weighted sum's), for a node whose inputs start at ``s`` and whose lists have ``n``
    elements. C writes these the same way."""
    positions, lists, singles = [], 0, 0
    for many in fold.many:
        parts = ["s", *[f"{lists} * n" if lists > 1 else "n"] * bool(lists)]
        positions.append(" + ".join(parts + [str(singles)] * bool(singles)))
        lists, singles = lists + many, singles + (not many)
    return positions


def _fold_branch(fold: FoldExpressions) -> list[str]:
    """A fold's branch: the groups as lists (g0, g1, ...) or numbers, then out and the
    derivatives, with Python's own loops where the expression allows (``sum(map(mul, w, a),
    b)`` for a weighted sum, as ``sums.weighted_sums`` computes it)."""
    lists, singles = sum(fold.many), len(fold.many) - sum(fold.many)
    count = "(starts[i + 1] - s" + (f" - {singles})" if singles else ")")
    body = [f"n = {count} // {lists}" if lists > 1 else f"n = {count}"]
    names, element = {}, {}
    for k, (group, many, at) in enumerate(zip(fold.groups, fold.many, fold_positions(fold))):
        names[group] = f"g{k}"
        if many:
            element[group] = f"e{k}"
            body.append(f"g{k} = [V[j] for j in flat[{at}:{at} + n]]")
        else:
            body.append(f"g{k} = V[flat[{at}]]")
    loop = f"for {', '.join(element.values())} in zip({', '.join(names[g] for g in element)})"
    if len(element) == 1:
        loop = f"for {next(iter(element.values()))} in {names[next(iter(element))]}"

    def each(expr: object) -> str:  # the list of expr over the indices
        if isinstance(expr, str) and expr in element:
            return names[expr]
        if expr[0] == "*" and all(isinstance(p, str) and p in element for p in expr[1:]):
            return f"map(mul, {names[expr[1]]}, {names[expr[2]]})"
        return f"[{render(expr, 'python', {**names, **element})} {loop}]"

    if fold.exact:
        body.append(f"out = V[i] = exact_sum({each(fold.term)})")
    else:
        start = render(fold.start, "python", names)
        body.append(f"out = V[i] = sum({each(fold.term)}, {start})")
    for many, at, derivative in zip(fold.many, fold_positions(fold), fold.derivatives):
        if isinstance(derivative, float):
            continue  # written once, at build
        if many:
            body.append(f"L[{at}:{at} + n] = {each(derivative)}")
        else:
            body.append(f"L[{at}] = {render(derivative, 'python', names)}")
    return body


_INTERPRETERS: dict[tuple[str, ...], Callable[..., int]] = {}


def _interpreter(ops: tuple[str, ...]) -> Callable[..., int]:
    """The compiled interpreter for the table ``ops`` (compiled once per table)."""
    if ops not in _INTERPRETERS:
        namespace: dict = {}
        exec(
            compile(interpreter_source(ops), "<autograd_lite replay interpreter>", "exec"),
            {"math": math, "mul": operator.mul, "exact_sum": exact_sum},
            namespace,
        )
        _INTERPRETERS[ops] = namespace["forward"]
    return _INTERPRETERS[ops]


def _constant_derivatives(op: str, start: int, count: int) -> list[tuple[int, float]]:
    """(position, value) of the local derivatives of a node of ``op`` that never change (1
    for +, -1 for neg, a weighted sum's 1 for its bias): written once, at build."""
    found = expressions(op)
    if isinstance(found, FoldExpressions):
        spans = found.layout(count)
        return [(start + first + j, d) for (first, length), d in zip(spans, found.derivatives)
                if isinstance(d, float) for j in range(length)]  # fmt: skip
    return [(start + k, d) for k, d in enumerate(found.derivatives) if isinstance(d, float)]


class PythonReplay(Replay):
    """Replay in pure Python over flat lists (see the module docstring)."""

    name = "python"

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        ops = replayable_ops()
        self._forward = _interpreter(ops)
        shape = layout(program, ops)
        self._codes, self._starts, self._flat = shape.codes, shape.starts, shape.flat
        self._computed = [i for i, code in enumerate(shape.codes) if code != LEAF]
        self._values = list(program.values)
        # local derivatives that never change (1 for +, -1 for neg, ...) are written once
        self._locals = [0.0] * len(self._flat)
        for i in self._computed:
            for position, value in _constant_derivatives(
                program.ops[i], shape.starts[i], len(program.args[i])
            ):
                self._locals[position] = value
        # the backward pass visits the computed nodes from the loss back
        self._reversed = self._computed[::-1]
        slopes = {op: expressions(op).finite_slopes for op in set(program.ops) if op}
        self._skippable = [bool(op) and slopes[op] for op in program.ops]

    def _run(self, inputs: list[float], params: list[float]) -> Result:
        program, values = self.program, self._values
        for i, v in zip(program.inputs, inputs):
            values[i] = v
        for i, v in zip(program.parameters, params):
            values[i] = v
        failed = self._forward(values, self._locals, self._codes, self._starts, self._flat,
                          self._computed)  # fmt: skip
        if failed >= 0:
            raise refused(program, failed, values)
        grads = [0.0] * len(values)
        grads[program.loss] = 1.0
        flat, local, starts, skippable = self._flat, self._locals, self._starts, self._skippable
        # A node whose gradient is 0 would add 0 * (finite slope) = 0 to each input: skip it
        # (often half the graph: dead relus, samples beyond the margin). Only with finite
        # values and ops of finite slopes, where the engine's sums are unchanged by it (but
        # for the sign of a zero gradient).
        may_skip = all(map(isfinite, values))
        for node in self._reversed:
            upstream = grads[node]
            if upstream == 0.0 and may_skip and skippable[node]:
                continue
            for k in range(starts[node], starts[node + 1]):
                grads[flat[k]] += local[k] * upstream
        return Result(
            values[program.loss],
            [grads[i] for i in program.parameters],
            [values[i] for i in program.outputs],
        )
