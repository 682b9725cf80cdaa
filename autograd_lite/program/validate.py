"""``validate(program)``: a ``Program`` checked once, before any backend runs it.

``Program`` is a public record: one can be built by hand, edited, or read from a file. A
backend trusts what it runs -- the C interpreter reads ``V[flat[k]]`` without asking -- so
every replay checks its program first, here: op names known (and readable as expressions),
as many inputs as each op takes, every input an earlier node (so the program is a graph in
order), parameters, inputs, outputs and the loss in range, fields of one length, numbers
that are floats; and the same of its decisions and guard nodes (``decisions.py``). What is
wrong is a ``ValueError`` naming the node (index, op, label) or the field, so no program of
any kind makes a backend read outside its arrays.

>>> from autograd_lite import Value
>>> from autograd_lite.program import trace
>>> w = Value(2.0, label="w")
>>> program = trace(w * w, params=[w])
>>> validate(program) is program
True
>>> import dataclasses
>>> validate(dataclasses.replace(program, args=((), (0, 5))))
Traceback (most recent call last):
...
ValueError: program: node 1 (*) reads node 5, which is not an earlier node (0 <= index < 1)
"""

from __future__ import annotations

import weakref

from autograd_lite.engine import OPERATIONS
from autograd_lite.expressions import FoldExpressions, NotReplayableError, expressions
from autograd_lite.program.decisions import TESTS
from autograd_lite.program.trace import Program

__all__ = ["validate"]

# Programs already checked: a Program is frozen and its fields are tuples, so it stays valid.
_CHECKED: weakref.WeakValueDictionary[int, Program] = weakref.WeakValueDictionary()


def validate(program: Program) -> Program:
    """``program`` itself if it is well formed, else a ``ValueError`` saying what is
    wrong (``TypeError`` if it is not a Program at all). Checked once per program."""
    if not isinstance(program, Program):
        raise TypeError(f"program: expected a Program (from trace), got {type(program).__name__}")
    if _CHECKED.get(id(program)) is program:
        return program
    _Check(program).run()
    try:
        _CHECKED[id(program)] = program
    except TypeError:  # pragma: no cover - a Program always takes weak references
        pass
    return program


def _is_index(i: object) -> bool:
    return type(i) is int  # not a bool, not a float that happens to be whole


class _Check:
    def __init__(self, program: Program) -> None:
        self.p = program

    def fail(self, what: str) -> ValueError:
        return ValueError(f"program: {what}")

    def node(self, i: int) -> str:
        """'node 3 (tanh "a")', as a message names it."""
        ops, labels = self.p.ops, self.p.labels
        op = ops[i] if i < len(ops) and isinstance(ops[i], str) and ops[i] else "leaf"
        label = labels[i] if i < len(labels) and isinstance(labels[i], str) else ""
        return f"node {i} ({op}{f' {label!r}' if label else ''})"

    def run(self) -> None:
        p = self.p
        fields = ("ops", "args", "values", "labels", "parameters", "inputs", "outputs",
                  "decisions", "guard_nodes")  # fmt: skip
        for name in fields:
            if not isinstance(getattr(p, name), (tuple, list)):
                raise self.fail(f"{name} must be a tuple, got {type(getattr(p, name)).__name__}")
        n = len(p.ops)
        if n == 0:
            raise self.fail("it has no nodes (a program holds at least its loss)")
        for name in ("args", "values", "labels"):
            if len(getattr(p, name)) != n:
                raise self.fail(
                    f"{name} has {len(getattr(p, name))} entries for {n} nodes (ops); one per node"
                )
        for i in range(n):
            self.check_node(i, p.ops[i], p.args[i], p.values[i], p.labels[i], limit=i)
        self.check_roles(n)
        self.check_reached(n)
        self.check_guards(n)

    def check_node(self, i: int, op: object, args: object, value: object, label: object,
                   limit: int) -> None:  # fmt: skip
        """Node ``i``: a known op, as many inputs as it takes, each below ``limit``."""
        where = self.node(i) if i < len(self.p.ops) else f"guard node {i}"
        if not isinstance(op, str):
            raise self.fail(f"{where}: op must be a str, got {type(op).__name__} {op!r}")
        if not isinstance(label, str):
            raise self.fail(f"{where}: label must be a str, got {type(label).__name__}")
        if type(value) is not float:
            raise self.fail(f"{where}: value must be a float, got {type(value).__name__} {value!r}")
        if not isinstance(args, (tuple, list)):
            raise self.fail(f"{where}: args must be a tuple of node indices, got {args!r}")
        for j in args:
            if not _is_index(j):
                raise self.fail(f"{where} reads {j!r}, which is not a node index (an int)")
            if not 0 <= j < limit:
                raise self.fail(
                    f"{where} reads node {j}, which is not an earlier node (0 <= index < {limit})"
                )
        if not op:
            if args:
                raise self.fail(f"{where} is a leaf (no op) but reads {len(args)} nodes")
            return
        if op not in OPERATIONS:
            raise self.fail(
                f"{where}: {op!r} is not an op of the engine (known: {', '.join(OPERATIONS)})"
            )
        try:
            found = expressions(op)
        except NotReplayableError as error:
            raise self.fail(f"{where}: {error}") from None
        count = len(args)
        reads = f"reads {count} node{'s' * (count != 1)}"
        if isinstance(found, FoldExpressions):
            lists = sum(found.many)
            singles = len(found.many) - lists
            rest = count - singles
            if rest < 0 or rest % lists or (singles == 0 and rest == 0):
                shape = " + ".join(f"n {g}" if many else f"1 {g}"
                                   for g, many in zip(found.groups, found.many))  # fmt: skip
                raise self.fail(
                    f"{where} {reads}; {op} reads {shape} "
                    f"(lists of one length n{' >= 1' if singles == 0 else ''})"
                )
        elif count != len(found.inputs):
            raise self.fail(
                f"{where} {reads}; {op} takes {len(found.inputs)} ({', '.join(found.inputs)})"
            )

    def check_roles(self, n: int) -> None:
        p = self.p
        if not _is_index(p.loss) or p.loss != n - 1:
            raise self.fail(
                f"loss must be the last node, {n - 1} (nodes come in order, the loss last), "
                f"got {p.loss!r}"
            )
        roles: dict[int, str] = {}
        for name in ("parameters", "inputs"):
            for k, i in enumerate(getattr(p, name)):
                if not _is_index(i) or not 0 <= i < n:
                    raise self.fail(f"{name}[{k}] must be a node index below {n}, got {i!r}")
                if p.ops[i]:
                    raise self.fail(
                        f"{name}[{k}] is {self.node(i)}, which is computed: a {name[:-1]} is a leaf"
                    )
                if i in roles:
                    raise self.fail(
                        f"{name}[{k}] is {self.node(i)}, already one of the {roles[i]}: "
                        "each leaf is fed once"
                    )
                roles[i] = name
        for k, i in enumerate(p.outputs):
            if not _is_index(i) or not 0 <= i < n:
                raise self.fail(f"outputs[{k}] must be a node index below {n}, got {i!r}")

    def check_reached(self, n: int) -> None:
        """Every computed node is used by the loss: a replay computes (and may refuse) each
        node, where the engine knows only the loss's graph."""
        used = [False] * n
        used[n - 1] = True
        for i in range(n - 1, -1, -1):
            if used[i]:
                for j in self.p.args[i]:
                    used[j] = True
            elif self.p.ops[i]:
                raise self.fail(
                    f"{self.node(i)} is not used by the loss (node {n - 1}): a program holds "
                    "the loss's graph only"
                )

    def check_guards(self, n: int) -> None:
        p = self.p
        total = n + len(p.guard_nodes)
        for k, g in enumerate(p.guard_nodes):
            if not isinstance(g, tuple) or len(g) != 4:
                raise self.fail(f"guard_nodes[{k}] must be a GuardNode (op, args, value, label)")
            self.check_node(n + k, g[0], g[1], g[2], g[3], limit=n + k)
        for k, d in enumerate(p.decisions):
            if not isinstance(d, tuple) or len(d) != 5:
                raise self.fail(
                    f"decisions[{k}] must be a Decision (left, test, right, taken, what)"
                )
            left, test, right, taken, what = d
            if test not in TESTS:
                raise self.fail(
                    f"decisions[{k}]: test must be one of {', '.join(TESTS)}, got {test!r}"
                )
            for side, i in (("left", left), ("right", right)):
                if not _is_index(i) or not 0 <= i < total:
                    raise self.fail(
                        f"decisions[{k}]: {side} must be a node index below {total} "
                        f"({n} nodes and {len(p.guard_nodes)} guard nodes), got {i!r}"
                    )
            if type(taken) is not bool or not isinstance(what, str):
                raise self.fail(f"decisions[{k}]: taken must be a bool and what a str")
