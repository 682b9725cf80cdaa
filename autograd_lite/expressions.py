"""Every op's forward, local derivatives and refusals as expressions, read off the engine.

The engine writes each op once: a forward (a function registered with ``@operation``) and
a derivative rule (``@derivative``). Replays and exported code need the same math as
expressions they can write in Python, NumPy, C or JavaScript. They get it here: the op's
own functions are run on symbols (``autograd_lite.symbolic``) instead of numbers --

* the forward, on Values whose data are the symbols ``x`` (and ``y``...): the node it makes
  holds the **forward** expression; the paths on which it raises (the log of x <= 0, an
  overflow) give the condition under which the op **refuses** its inputs;
* the rule, on the symbols and ``out``: the **derivatives**, one expression per input.

Ordinary Python ``if``s in those functions become ``("if", condition, then, else)``. Ops
that take lists of inputs (``sum``, ``weighted_sum``) are read as a **fold**: a start, one
term per index, and a derivative per group of inputs. Nothing is written twice, and an op a
user registers later, in their own file, is read the same way on first use.

>>> relu = expressions("relu")
>>> relu.forward
('if', ('<=', 'x', 0.0), 0.0, 'x')
>>> relu.derivatives[0]
('if', ('>', 'x', 0.0), 1.0, ('if', ('<=', 'x', 0.0), 0.0, nan))
>>> expressions("log").refuse
('<=', 'x', 0.0)
>>> fold = expressions("weighted_sum")
>>> fold.groups, fold.start, fold.term, fold.derivatives
(('weights', 'activations', 'bias'), 'bias', ('*', 'weights', 'activations'), \
('activations', 'weights', 1.0))
"""

from __future__ import annotations

import inspect
import math
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograd_lite import elementary, symbolic
from autograd_lite.engine import DERIVATIVES, OPERATIONS, Value, input_spans, operand
from autograd_lite.modes import RECORDING, mode
from autograd_lite.symbolic import HOLE, Expr, Outcome, Symbol, SymbolicError

__all__ = [
    "FoldExpressions",
    "NotReplayableError",
    "OpExpressions",
    "expressions",
    "replayable_ops",
]

VARIABLES = ("x", "y", "z")  # the inputs of an op with a fixed number of them, in order
OUT = "out"  # the op's result, which a derivative or a refusal may read


class NotReplayableError(ValueError):
    """An op that cannot be read off as expressions; the message names it and says why."""


@dataclass(frozen=True)
class OpExpressions:
    """An op with a fixed number of inputs, named ``inputs`` (``x``, ``y``); ``out`` is
    its result.

    * ``forward`` -- out, over the inputs;
    * ``derivatives[k]`` -- d(out)/d(input k), over the inputs and ``out``;
    * ``refuse`` -- when the engine raises instead of computing (``False``: never), over the
      inputs and ``out``; ``refusals`` says each case in words;
    * ``finite_slopes`` -- the derivatives are finite wherever the inputs and out are (no
      division, power, log, infinity or NaN on those paths): a replay may skip a node
      whose gradient is 0 (every contribution is 0 there, never NaN);
    * ``about`` -- the first line of the rule's docstring, ``forward_about`` of the forward's.
    """

    op: str
    inputs: tuple[str, ...]
    forward: Expr
    derivatives: tuple[Expr, ...]
    refuse: Expr = False
    refusals: tuple[tuple[Expr, str], ...] = ()
    finite_slopes: bool = True
    about: str = ""
    forward_about: str = ""


@dataclass(frozen=True)
class FoldExpressions:
    """An op over lists of inputs: ``groups`` in input order, each a list (``many``) or one
    input; the lists have one length n, so a node of ``count`` inputs splits into groups
    by ``layout(count)``.

    out = ``start`` + term(0) + term(1) + ... added left to right (``exact``: the exact sum
    of the terms, rounded once, as ``math.fsum``), where ``term`` is written over the
    groups' names and reads each list's element i. ``derivatives[g]`` is d(out)/d(an input of
    group g), again over the names (the list element of the same i).
    """

    op: str
    groups: tuple[str, ...]
    many: tuple[bool, ...]
    start: Expr
    term: Expr
    exact: bool
    derivatives: tuple[Expr, ...]
    finite_slopes: bool = True
    about: str = ""

    def layout(self, count: int) -> list[tuple[int, int]]:
        """(first position, length) of each group among ``count`` inputs.

        >>> expressions("weighted_sum").layout(7)
        [(0, 3), (3, 3), (6, 1)]
        """
        return input_spans(self.many, count)


Derived = OpExpressions | FoldExpressions
_CACHE: dict[str, tuple[tuple, Derived | NotReplayableError]] = {}


def expressions(op: str) -> Derived:
    """The expressions of ``op``, read off its forward and its rule on first use (and again
    when either is registered anew). ``NotReplayableError`` says what an op lacks."""
    forward, lists = OPERATIONS.get(op, (None, ()))
    rule = DERIVATIVES.get(op)
    key = (forward, rule, lists)
    cached = _CACHE.get(op)
    if cached is None or cached[0] != key:
        try:
            found: Derived | NotReplayableError = _derive(op, forward, rule, lists)
        except NotReplayableError as error:
            found = error
        cached = _CACHE[op] = (key, found)
    if isinstance(cached[1], NotReplayableError):
        raise NotReplayableError(str(cached[1]))  # a fresh one: no traceback piles up
    return cached[1]


def replayable_ops() -> tuple[str, ...]:
    """Every registered op that reads off as expressions, in the order of registration (the
    engine's, then ``sums.py``'s, then any registered later)."""
    found = []
    for op in DERIVATIVES:
        try:
            expressions(op)
        except NotReplayableError:
            continue
        found.append(op)
    return tuple(found)


# --- reading an op off -------------------------------------------------------------------


def _derive(op: str, forward: Any, rule: Any, lists: tuple[bool, ...]) -> Derived:
    if rule is None:
        raise NotReplayableError(f"op {op!r} has no derivative rule: register one with @derivative")
    if forward is None:
        raise NotReplayableError(
            f"op {op!r} has a derivative rule but no forward: decorate the function that "
            f"computes it with @operation({op!r}) (from autograd_lite.engine)"
        )
    parameters = _parameters(op, forward)
    token = mode.set(RECORDING)  # read the op as it records, whatever no_grad() is around
    try:
        if True in lists:
            return _derive_fold(op, forward, rule, parameters, lists)
        return _derive_op(op, forward, rule, parameters)
    except SymbolicError as error:
        raise NotReplayableError(
            f"op {op!r} cannot be read off as expressions{_where(error)}: {error}"
        ) from None
    finally:
        mode.reset(token)


def _where(error: BaseException) -> str:
    """Where the op's own code last ran, as `` (at my_ops.py:12, in softplus)``."""
    here = (Path(symbolic.__file__), Path(__file__), Path(elementary.__file__))
    found = ""
    for frame, line in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename)
        if path not in here:
            found = f" (at {path.name}:{line}, in {frame.f_code.co_name})"
    return found


def _parameters(op: str, forward: Callable[..., Any]) -> list[str]:
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):
        raise NotReplayableError(f"op {op!r}: its forward {forward!r} has no signature") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in signature.parameters.values() if p.kind in kinds]
    if not names:
        raise NotReplayableError(f"op {op!r}: its forward takes no inputs")
    return names


def _leaf(symbol: Symbol) -> Value:
    """A leaf whose data is ``symbol``: what the forward is run on."""
    leaf = operand(0.0, "expressions")
    leaf._data = symbol  # type: ignore[assignment]
    return leaf


def _about(function: Any) -> str:
    doc = inspect.getdoc(function) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def _as_expr(op: str, value: object) -> Expr:
    if isinstance(value, Symbol):
        return value.expr
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise NotReplayableError(
        f"op {op!r}: its rule gave {type(value).__name__} {value!r}; a rule returns numbers "
        "computed from its arguments"
    )


def _failure(op: str, what: str, error: BaseException) -> NotReplayableError:
    """A path raised something that is not a refusal (a TypeError, an AttributeError...)."""
    return NotReplayableError(
        f"op {op!r} cannot be read off as expressions: its {what} raised "
        f"{type(error).__name__}: {error}"
    )


def _refusal(error: BaseException | None) -> bool:
    """Errors by which the engine refuses an input (log of 0, overflow, division by 0)."""
    return isinstance(error, (ArithmeticError, ValueError)) and not isinstance(
        error, NotReplayableError
    )


def _derive_op(
    op: str, forward: Callable[..., Value], rule: Callable[..., tuple], parameters: list[str]
) -> OpExpressions:
    if len(parameters) > len(VARIABLES):
        raise NotReplayableError(
            f"op {op!r}: its forward takes {len(parameters)} inputs; an op of fixed arity "
            f"takes at most {len(VARIABLES)} (for lists, register it with many=...)"
        )
    names = VARIABLES[: len(parameters)]
    leaves = [_leaf(Symbol(name)) for name in names]
    paths = symbolic.explore(lambda: forward(*leaves))
    for _, outcome in paths:
        _check_node(op, outcome, tuple(leaves), "forward")
    value = symbolic.assemble(paths, lambda o: HOLE if o.error else _as_expr(op, o.value._data))
    if value is HOLE:
        raise NotReplayableError(f"op {op!r}: its forward refuses every input")
    refuse = symbolic.assemble(paths, lambda o: o.error is not None)
    # a refusal may read the op's result as `out` (exp's overflow: |out| = inf)
    refuse = symbolic.substitute(refuse, lambda e: OUT if _is_result(e, value) else None)
    refusals = tuple(
        (_conjunction(decisions), f"{type(o.error).__name__}: {o.error}")
        for decisions, o in paths
        if o.error is not None
    )
    return OpExpressions(
        op=op,
        inputs=names,
        forward=value,
        derivatives=_derivatives(op, rule, names),
        refuse=refuse,
        refusals=refusals,
        finite_slopes=_finite_slopes(op, rule, names),
        about=_about(rule),
        forward_about=_about(forward),
    )


def _is_result(part: Expr, value: Expr) -> bool:
    return isinstance(part, tuple) and isinstance(value, tuple) and symbolic.same(part, value)


def _check_node(op: str, outcome: Outcome, inputs: tuple, what: str) -> None:
    if outcome.error is not None:
        if not _refusal(outcome.error):
            raise _failure(op, what, outcome.error)
        return
    node = outcome.value
    if not isinstance(node, Value) or node.op != op or node.inputs != inputs:
        got = f"a {node.op!r} node" if isinstance(node, Value) else type(node).__name__
        raise NotReplayableError(
            f"op {op!r}: its forward must return the node that record(out, {op!r}, inputs, "
            f"...) makes of its own inputs; it returned {got}"
        )


def _conjunction(decisions: Sequence[tuple[Expr, bool]]) -> Expr:
    parts = [c if answer else ("not", c) for c, answer in decisions]
    if not parts:
        return True
    condition = parts[0]
    for part in parts[1:]:
        condition = ("and", condition, part)
    return condition


def _derivatives(op: str, rule: Callable[..., tuple], names: Sequence[str]) -> tuple[Expr, ...]:
    symbols = [Symbol(name) for name in names]
    paths = symbolic.explore(lambda: rule(*symbols, Symbol(OUT)))
    for _, outcome in paths:
        if outcome.error is not None and not _refusal(outcome.error):
            raise _failure(op, "rule", outcome.error)
        if outcome.error is None and (
            not isinstance(outcome.value, tuple) or len(outcome.value) != len(names)
        ):
            raise NotReplayableError(
                f"op {op!r}: its rule must return a tuple of {len(names)} derivatives (one "
                f"per input); it returned {outcome.value!r}"
            )
    found = []
    for k in range(len(names)):
        derivative = symbolic.assemble(
            paths, lambda o, k=k: HOLE if o.error else _as_expr(op, o.value[k])
        )
        if derivative is HOLE:
            raise NotReplayableError(f"op {op!r}: its rule raises for every input")
        found.append(derivative)
    return tuple(found)


def _finite_slopes(op: str, rule: Callable[..., tuple], names: Sequence[str]) -> bool:
    """The rule, run on finite inputs and result, writes no division, power, log,
    infinity or NaN (see ``OpExpressions``)."""
    finite = [(cond, True) for name in (*names, OUT) for cond in
              (("<", name, math.inf), (">", name, -math.inf))]  # fmt: skip
    symbols = [Symbol(name) for name in names]
    paths = symbolic.explore(lambda: rule(*symbols, Symbol(OUT)), assume=finite)
    parts = [part for _, o in paths if o.error is None for part in o.value]
    return all(_finite(_as_expr(op, part)) for part in parts)


def _finite(expr: Expr) -> bool:
    def leaf(part: Expr) -> bool:
        return not isinstance(part, float) or math.isfinite(part)

    def node(part: tuple, parts: list[bool]) -> bool:
        return part[0] not in ("/", "pow", "log") and all(parts)

    return symbolic.fold(expr, leaf, node)


# --- ops over lists: a fold ----------------------------------------------------------------


def _derive_fold(
    op: str,
    forward: Callable[..., Value],
    rule: Callable[..., tuple],
    parameters: list[str],
    is_many: tuple[bool, ...],
) -> FoldExpressions:
    found = {_read_fold(op, forward, rule, parameters, is_many, n) for n in (2, 3)}
    if len(found) != 1:
        raise NotReplayableError(f"op {op!r}: its expressions change with the number of inputs")
    start, term, exact, derivatives = found.pop()
    return FoldExpressions(
        op=op,
        groups=tuple(parameters),
        many=is_many,
        start=start,
        term=term,
        exact=exact,
        derivatives=derivatives,
        finite_slopes=all(map(_finite, derivatives)),
        about=_about(rule),
    )


def _element(group: str, i: int) -> str:
    return f"{group}[{i}]"


def _read_fold(
    op: str,
    forward: Callable[..., Value],
    rule: Callable[..., tuple],
    groups: list[str],
    is_many: tuple[bool, ...],
    n: int,
) -> tuple:
    """(start, term, exact, derivatives) read off with n inputs per list, as a hashable."""
    arguments, flat = [], []
    for group, many in zip(groups, is_many):
        if many:
            leaves = [_leaf(Symbol(_element(group, i))) for i in range(n)]
            arguments.append(leaves)
            flat.extend(leaves)
        else:
            leaf = _leaf(Symbol(group))
            arguments.append(leaf)
            flat.append(leaf)
    node = _single_path(op, "forward", lambda: forward(*arguments))
    _check_node(op, Outcome(value=node), tuple(flat), "forward")
    out = _as_expr(op, node._data)
    if isinstance(out, tuple) and out[0] == "fsum":
        exact, start, terms = True, 0.0, list(out[1:])
    else:
        exact, start, terms = False, out, []
        while len(terms) < n and isinstance(start, tuple) and start[0] == "+":
            start, last = start[1], start[2]
            terms.insert(0, last)
    if len(terms) != n:
        raise NotReplayableError(
            f"op {op!r}: an op over lists is read as a sum of one term per index (left to "
            f"right, or exact as math.fsum); its forward gave {out!r}"
        )
    term = _generalized(op, terms, groups, is_many)
    if _mentions_elements(start):
        raise NotReplayableError(f"op {op!r}: the start of its sum reads list elements: {start!r}")
    data = [[leaf._data for leaf in a] if many else a._data
            for a, many in zip(arguments, is_many)]  # fmt: skip
    local = _single_path(op, "rule", lambda: rule(*data, Symbol(OUT)))
    if not isinstance(local, tuple) or len(local) != len(flat):
        raise NotReplayableError(f"op {op!r}: its rule must return one derivative per input")
    derivatives, k = [], 0
    for group, many in zip(groups, is_many):
        size = n if many else 1
        parts = [_as_expr(op, d) for d in local[k : k + size]]
        k += size
        if many:
            derivatives.append(_generalized(op, parts, groups, is_many))
        elif _mentions_elements(parts[0]):
            raise NotReplayableError(f"op {op!r}: d/d{group} reads list elements: {parts[0]!r}")
        else:
            derivatives.append(parts[0])
    return start, term, exact, tuple(derivatives)


def _single_path(op: str, what: str, run: Callable[[], Any]) -> Any:
    paths = symbolic.explore(run)
    if len(paths) != 1 or paths[0][1].error is not None:
        error = paths[0][1].error
        why = f"raised {type(error).__name__}: {error}" if len(paths) == 1 else "branches"
        raise NotReplayableError(f"op {op!r}: its {what} over lists {why}; it must not")
    return paths[0][1].value


def _generalized(op: str, parts: list[Expr], groups: list[str], is_many: tuple) -> Expr:
    """The one expression, over the groups' names, that each ``parts[i]`` is for index i."""
    lists = [g for g, many in zip(groups, is_many) if many]
    patterns = []
    for i, part in enumerate(parts):
        names = {_element(g, i): g for g in lists}
        pattern = symbolic.substitute(
            part,
            lambda e, names=names: names.get(e) if isinstance(e, str) else None,
        )
        if _mentions_elements(pattern):
            raise NotReplayableError(f"op {op!r}: term {i} reads other indices: {part!r}")
        patterns.append(pattern)
    if any(not symbolic.same(p, patterns[0]) for p in patterns):
        raise NotReplayableError(
            f"op {op!r}: its terms are not one expression per index: {parts!r}"
        )
    return patterns[0]


def _mentions_elements(expr: Expr) -> bool:
    return any("[" in name for name in symbolic.variables(expr))
