"""Symbols: numbers not known yet, so that the engine's own functions read as expressions.

A ``Symbol`` stands for a float. Arithmetic on it, and the elementary functions of
``autograd_lite.elementary``, do not compute: they write an **expression**. An expression
is a variable name (``"x"``), a float, or a tuple ``(operator, *operands)``:

* ``+ - * /`` and ``pow`` (two operands), ``neg``, ``abs``, ``exp``, ``log``, ``sqrt``,
  ``tanh``, ``floor``; ``fsum`` (any number: the exact sum, rounded once);
* comparisons ``> >= < <= == !=``, ``and``, ``or``, ``not``; ``if`` (condition, then, else).

A comparison of symbols gives a ``Condition``. When Python asks a condition for a bool (an
``if``, ``and``, ``max()``), ``explore`` answers: it runs the function once per combination
of answers, depth first, and returns every path -- its decisions and what it returned or
raised. ``assemble`` turns the paths back into one expression with ``if``s. So a function
with ordinary Python branches (relu's, the power rule's at 0) reads off as one expression. An
answer that the decisions already taken imply (``x > 0`` after ``x <= 0``; ``exp(-|x|)``
cannot overflow) is given without branching, so impossible paths are not explored.

Python's float arithmetic raises where it has no answer (a division by zero, the log of 0,
an overflow of ``exp`` or ``**``); a symbol raises the same errors on the paths where that
happens, so ``explore`` finds the conditions under which a function refuses its input.

>>> x = Symbol("x")
>>> paths = explore(lambda: 1.0 if x > 0.0 else 0.0)
>>> [(decisions, outcome.value) for decisions, outcome in paths]
[(((('>', 'x', 0.0), True),), 1.0), (((('>', 'x', 0.0), False),), 0.0)]
>>> assemble(paths, lambda outcome: outcome.value)
('if', ('>', 'x', 0.0), 1.0, 0.0)
>>> (x * x + 1.0).expr
('+', ('*', 'x', 'x'), 1.0)

This module imports nothing of the project: the engine's elementary functions use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

__all__ = [
    "HOLE",
    "Condition",
    "Expr",
    "Facts",
    "Outcome",
    "Symbol",
    "SymbolicError",
    "assemble",
    "explore",
    "fold",
    "fsum",
    "same",
    "substitute",
    "variables",
]

Expr = str | float | bool | tuple
INF = math.inf
_COMPARISONS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
PATH_LIMIT = 4096  # paths explored before giving up (the engine's ops need at most a few hundred)


class SymbolicError(TypeError):
    """A symbol met something that works on numbers only (``math.exp``, ``float()``, ...)."""


# --- walking expressions -------------------------------------------------------------------


def fold(expr: Expr, leaf: Callable[[Any], Any], node: Callable[[tuple, list], Any]) -> Any:
    """``expr`` folded bottom up: ``leaf(x)`` for a name or number, ``node(expr, results)``
    for a tuple, given its operands' results. An iterative walk: no recursion.

    >>> fold(("+", "x", ("neg", 2.0)), repr, lambda e, parts: f"{e[0]}({', '.join(parts)})")
    "+('x', neg(2.0))"
    """
    done: dict[int, Any] = {}
    stack = [expr]
    while stack:
        part = stack[-1]
        if not isinstance(part, tuple):
            stack.pop()
            done[id(part)] = leaf(part)
            continue
        pending = [p for p in part[1:] if id(p) not in done]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        done[id(part)] = node(part, [done[id(p)] for p in part[1:]])
    return done[id(expr)]


def same(a: Expr, b: Expr) -> bool:
    """The same expression, written alike: -0.0 is not 0.0 here, a NaN is a NaN."""
    return a is b or repr(a) == repr(b)


def substitute(expr: Expr, replace: Callable[[Expr], Expr | None]) -> Expr:
    """``expr`` with each part for which ``replace(part)`` is not None replaced by it
    (outermost first: a replaced part is not looked into).

    >>> substitute(("*", ("exp", "x"), "x"), lambda e: "out" if e == ("exp", "x") else None)
    ('*', 'out', 'x')
    """
    top = replace(expr)
    if top is not None:
        return top

    def node(part: tuple, parts: list) -> Expr:
        return (part[0], *(_replaced(p, r, replace) for p, r in zip(part[1:], parts)))

    return fold(expr, lambda part: part, node)


def _replaced(original: Expr, rebuilt: Expr, replace: Callable[[Expr], Expr | None]) -> Expr:
    new = replace(original)
    return rebuilt if new is None else new


def variables(expr: Expr) -> set[str]:
    """The names ``expr`` reads.

    >>> sorted(variables(("if", (">", "x", 0.0), "y", 1.0)))
    ['x', 'y']
    """
    return fold(
        expr,
        lambda part: {part} if isinstance(part, str) else set(),
        lambda part, parts: set().union(*parts),
    )


# --- what is known along a path: facts, and the ranges they imply --------------------------


class _Range(NamedTuple):
    """Every value an expression may take: the floats in [low, high] (none when low > high),
    and NaN when ``nan``."""

    low: float
    high: float
    nan: bool


_ANY = _Range(-INF, INF, True)


def _hull(values: Iterable[float]) -> _Range:
    values = list(values)
    numbers = [v for v in values if v == v]
    if not numbers:
        return _Range(INF, -INF, len(values) > 0)
    return _Range(min(numbers), max(numbers), len(numbers) < len(values))


def _compare(op: str, a: float, b: float) -> bool:
    return {
        "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b,
    }[op]  # fmt: skip


def _decided(op: str, a: _Range, b: _Range) -> bool | None:
    """The answer of ``a op b`` when every pair of possible values gives the same one."""
    nan = a.nan or b.nan
    if a.low > a.high or b.low > b.high:  # one side can only be NaN (or nothing at all)
        return (op == "!=") if nan else None
    below, above = a.high < b.low, a.low > b.high  # every a below / above every b
    point = a.low == a.high == b.low == b.high  # one and the same number on both sides
    if op == "!=":  # the only comparison NaN makes true
        return True if below or above else False if point and not nan else None
    always, never = {
        "<": (a.high < b.low, a.low >= b.high),
        "<=": (a.high <= b.low, above),
        ">": (a.low > b.high, a.high <= b.low),
        ">=": (a.low >= b.high, below),
        "==": (point, below or above),
    }[op]
    if never:
        return False
    return True if always and not nan else None


def _range_of_operator(operator: str, parts: list[_Range]) -> _Range:
    """What an operator can give on operands in these ranges (a safe over-estimate)."""
    if operator in ("exp", "log", "sqrt", "tanh", "floor", "neg", "abs"):
        (a,) = parts
        if a.low > a.high:
            return a
        if operator == "neg":
            return _Range(-a.high, -a.low, a.nan)
        if operator == "abs":
            low = 0.0 if a.low <= 0.0 <= a.high else min(abs(a.low), abs(a.high))
            return _Range(low, max(abs(a.low), abs(a.high)), a.nan)
        if operator == "exp":
            return _Range(_exp(a.low), _exp(a.high), a.nan)
        if operator == "tanh":
            return _Range(math.tanh(a.low), math.tanh(a.high), a.nan)
        if operator == "floor":
            return _Range(_floor(a.low), _floor(a.high), a.nan)
        if operator == "sqrt":
            return _Range(math.sqrt(max(a.low, 0.0)), math.sqrt(max(a.high, 0.0)), a.nan)
        if a.low > 0.0:  # log
            return _Range(math.log(a.low), math.log(a.high), a.nan)
        return _ANY
    if operator in ("+", "-", "*", "/"):
        a, b = parts
        if a.low > a.high or b.low > b.high:
            return _Range(INF, -INF, a.nan or b.nan)
        if operator == "-":
            b = _Range(-b.high, -b.low, b.nan)
        if operator == "/" and b.low <= 0.0 <= b.high:
            return _ANY
        combine = {"+": _add, "-": _add, "*": _mul, "/": _div}[operator]
        corners = [combine(p, q) for p in (a.low, a.high) for q in (b.low, b.high)]
        spread = _hull(corners)
        return _Range(spread.low, spread.high, a.nan or b.nan or spread.nan)
    if operator == "if":
        _, then, otherwise = parts
        low, high = min(then.low, otherwise.low), max(then.high, otherwise.high)
        return _Range(low, high, then.nan or otherwise.nan)
    return _ANY


def _add(a: float, b: float) -> float:
    return a + b  # inf + -inf is NaN: _hull then says NaN is possible


def _mul(a: float, b: float) -> float:
    return a * b


def _div(a: float, b: float) -> float:
    return a / b if b else math.nan


def _exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        return INF


def _floor(a: float) -> float:
    return float(math.floor(a)) if math.isfinite(a) else a


def _is_number(part: Expr) -> bool:
    return isinstance(part, float) and not isinstance(part, bool)


class Facts:
    """Conditions known to be true or false (the decisions of a path), and what follows.

    A comparison of an expression with numbers is decided exactly from the other
    comparisons of that expression with numbers (NaN included: ``x <= 0`` false means
    ``x > 0`` or NaN); otherwise each side's range is worked out from its parts (``exp``
    is never negative, ``-|x|`` never positive) and compared.

    >>> facts = Facts([((">", "x", 0.0), False)])
    >>> facts.implied(("<=", "x", 0.0)) is None, facts.implied(("==", "x", 1.0))
    (True, False)
    >>> Facts([]).implied(("==", ("+", 1.0, ("exp", "x")), 0.0))
    False
    """

    def __init__(self, known: Iterable[tuple[Expr, bool]] = ()) -> None:
        self.known: list[tuple[Expr, bool]] = []
        for condition, answer in known:
            self.add(condition, answer)

    def add(self, condition: Expr, answer: bool) -> None:
        self.known.append((condition, answer))

    def _about(self, expr: Expr) -> list[tuple[str, float, bool]]:
        """(comparison, number, answer) of each known comparison of ``expr`` with a number."""
        found = []
        for condition, answer in self.known:
            op, left, right = condition if _is_atomic(condition) else ("", None, None)
            if not op:
                continue
            if _is_number(right) and same(left, expr):
                found.append((op, right, answer))
            elif _is_number(left) and same(right, expr):
                found.append((_FLIPPED[op], left, answer))
        return found

    def _possible(self, expr: Expr, also: float | None = None) -> list[float] | None:
        """Values standing for every case that the known comparisons of ``expr`` with
        numbers (and a comparison with ``also``) tell apart, consistent with the known
        ones; None when nothing is known of it."""
        about = self._about(expr)
        if not about:
            return None
        points = {math.nan, -INF, INF}
        for number in [number for _, number, _ in about] + ([] if also is None else [also]):
            points.update((number, math.nextafter(number, -INF), math.nextafter(number, INF)))
        return [
            p for p in points if all(_compare(op, p, number) == answer for op, number, answer
                                     in about)
        ]  # fmt: skip

    def range(self, expr: Expr) -> _Range:
        """Every value ``expr`` may take, given the facts."""

        def leaf(part: Expr) -> _Range:
            if _is_number(part):
                return _Range(part, part, part != part) if part == part else _Range(INF, -INF, True)
            return self._narrowed(part, _ANY)

        def node(part: tuple, parts: list[_Range]) -> _Range:
            if part[0] == "*" and same(part[1], part[2]):  # a square is never negative
                size = _range_of_operator("abs", parts[:1])
                parts = [size, size]
            return self._narrowed(part, _range_of_operator(part[0], parts))

        return fold(expr, leaf, node)

    def _narrowed(self, expr: Expr, found: _Range) -> _Range:
        possible = self._possible(expr)
        if possible is None:
            return found
        known = _hull(possible)
        return _Range(max(found.low, known.low), min(found.high, known.high),
                      found.nan and known.nan)  # fmt: skip

    def implied(self, condition: Expr) -> bool | None:
        """True or False when the facts decide ``condition`` (a comparison), else None."""
        for known, answer in self.known:
            if same(known, condition):
                return answer
        if not _is_atomic(condition):
            return None
        op, left, right = condition
        for expr, number, flip in ((left, right, False), (right, left, True)):
            if _is_number(number) and not _is_number(expr):
                possible = self._possible(expr, number)
                if possible:
                    compare = _FLIPPED[op] if flip else op
                    answers = {_compare(compare, p, number) for p in possible}
                    if len(answers) == 1:
                        return answers.pop()
        return _decided(op, self.range(left), self.range(right))


def _is_atomic(condition: Expr) -> bool:
    return isinstance(condition, tuple) and condition[0] in _COMPARISONS


# --- exploring the paths of a function ----------------------------------------------------


class Outcome(NamedTuple):
    """What one path of a function did: returned ``value``, or raised ``error``."""

    value: Any = None
    error: BaseException | None = None


class _Path:
    """One run of the function: the answers it must give (``forced``), in order, to the
    conditions that branch; every condition answered so far is a fact."""

    def __init__(self, forced: list[bool], assumed: Sequence[tuple[Expr, bool]]) -> None:
        self.forced = forced
        self.facts = Facts(assumed)
        self.decisions: list[tuple[Expr, bool]] = []

    def decide(self, condition: Expr) -> bool:
        answer = self.facts.implied(condition)
        if answer is None:  # a real branch: as forced, else the true side first
            k = len(self.decisions)
            answer = self.forced[k] if k < len(self.forced) else True
            self.decisions.append((condition, answer))
        self.facts.add(condition, answer)
        return answer


_PATH: ContextVar[_Path | None] = ContextVar("autograd_lite_symbolic_path", default=None)


def explore(
    function: Callable[[], Any], assume: Sequence[tuple[Expr, bool]] = ()
) -> list[tuple[tuple[tuple[Expr, bool], ...], Outcome]]:
    """Run ``function()`` once per path, depth first (the true side of each condition
    first): ``[(decisions, outcome), ...]``. ``assume`` are facts given from the start.

    An exception is the path's outcome, except a ``SymbolicError`` (the function does
    something a symbol cannot follow), which is raised. The function must decide the same
    way each time it is given the same answers (no randomness, no state kept between runs).
    """
    paths: list[tuple[tuple[tuple[Expr, bool], ...], Outcome]] = []
    forced: list[bool] = []
    while True:
        path = _Path(forced, assume)
        token = _PATH.set(path)
        try:
            outcome = Outcome(value=function())
        except SymbolicError:
            raise
        except Exception as error:  # noqa: BLE001 - a path's outcome, judged by the caller
            outcome = Outcome(error=error)
        finally:
            _PATH.reset(token)
        paths.append((tuple(path.decisions), outcome))
        answers = [answer for _, answer in path.decisions]
        while answers and not answers[-1]:  # the deepest true answer is taken false next
            answers.pop()
        if not answers:
            return paths
        if len(paths) >= PATH_LIMIT:
            raise SymbolicError(f"more than {PATH_LIMIT} paths: too many branches to follow")
        forced = answers[:-1] + [False]


HOLE: Any = type("Hole", (), {"__repr__": lambda self: "HOLE"})()
"""An outcome that does not matter (a path that raised): ``assemble`` leaves it out."""


def assemble(
    paths: Sequence[tuple[tuple[tuple[Expr, bool], ...], Outcome]],
    leaf: Callable[[Outcome], Any],
) -> Any:
    """One expression from the paths of ``explore``: ``leaf(outcome)`` at each path's end
    (an expression, a bool, or ``HOLE`` for "any"), joined by ``("if", condition, then,
    else)``, simplified: equal branches merge, boolean leaves become ``and``/``or``, and a
    branch the other one equals under its condition is dropped. ``HOLE`` if every leaf is.
    """
    # The paths as a tree: a branch is [condition, subtree if true, subtree if false].
    root: list = []
    for decisions, outcome in paths:
        node = root
        for condition, answer in decisions:
            if not node:
                node.extend([condition, [], []])
            node = node[1] if answer else node[2]
        node.append(("leaf", leaf(outcome)))
    # bottom up, without recursion: each branch once both its subtrees are done
    done: dict[int, Any] = {}
    stack: list[tuple[list, list[tuple[Expr, bool]]]] = [(root, [])]
    while stack:
        node, above = stack[-1]
        if len(node) == 1:  # a path's end
            stack.pop()
            done[id(node)] = node[0][1]
            continue
        condition, then, otherwise = node
        pending = [(part, [*above, (condition, answer)]) for part, answer in
                   ((then, True), (otherwise, False)) if id(part) not in done]  # fmt: skip
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        done[id(node)] = _branch(condition, done[id(then)], done[id(otherwise)], above)
    return done[id(root)]


def _branch(condition: Expr, then: Any, otherwise: Any, above: list[tuple[Expr, bool]]) -> Any:
    """``if condition then ... else ...``, as simple as it can be written (see ``assemble``);
    ``above`` are the conditions known where it stands."""
    if then is HOLE:
        return otherwise
    if otherwise is HOLE or same(then, otherwise):
        return then
    if isinstance(then, bool) or isinstance(otherwise, bool):
        if then is True:
            return condition if otherwise is False else ("or", condition, otherwise)
        if then is False:
            negated = ("not", condition)
            return negated if otherwise is True else ("and", negated, otherwise)
        if otherwise is False:
            return ("and", condition, then)
        return ("or", ("not", condition), then)
    # a branch that the other equals where the condition decides it is not needed
    if same(restrict(otherwise, [*above, (condition, True)]), then):
        return otherwise
    if same(restrict(then, [*above, (condition, False)]), otherwise):
        return then
    if _is_if(then) and same(then[3], otherwise):  # if c: (if d: T else E) else E
        return ("if", ("and", condition, then[1]), then[2], otherwise)
    if _is_if(otherwise) and same(otherwise[2], then):  # if c: T else (if d: T else E)
        return ("if", ("or", condition, otherwise[1]), then, otherwise[3])
    return ("if", condition, then, otherwise)


def _is_if(expr: Any) -> bool:
    return isinstance(expr, tuple) and expr[0] == "if"


def restrict(expr: Any, known: Sequence[tuple[Expr, bool]]) -> Any:
    """``expr`` with each ``if`` whose condition ``known`` (and the ``if``s around it)
    decide replaced by its branch.

    >>> restrict(("if", (">", "x", 0.0), 1.0, ("if", ("<=", "x", 0.0), 0.0, "x")),
    ...          [(("==", "x", 0.0), True)])
    0.0
    """
    if not _is_if(expr):
        return expr
    # Top down, as the facts flow into the branches: one frame per visit (a shared subtree
    # may be decided otherwise elsewhere); then bottom up. No recursion.
    frames: list[list] = []  # [part, answer (None: undecided; _LEAF), then frame, else frame]
    stack: list[tuple[Any, list, int, int]] = [(expr, list(known), -1, 0)]
    while stack:
        part, facts_here, parent, slot = stack.pop()
        if parent >= 0:
            frames[parent][slot] = len(frames)
        if not _is_if(part):
            frames.append([part, _LEAF, -1, -1])
            continue
        condition = part[1]
        answer = Facts(facts_here).implied(condition) if _is_atomic(condition) else None
        frames.append([part, answer, -1, -1])
        if answer is not False:
            stack.append((part[2], [*facts_here, (condition, True)], len(frames) - 1, 2))
        if answer is not True:
            stack.append((part[3], [*facts_here, (condition, False)], len(frames) - 1, 3))
    results: list[Any] = [None] * len(frames)
    for index in range(len(frames) - 1, -1, -1):  # a frame's branches come after it
        part, answer, then, otherwise = frames[index]
        if answer is _LEAF:
            results[index] = part
        elif answer is not None:
            results[index] = results[then if answer else otherwise]
        else:
            then, otherwise = results[then], results[otherwise]
            results[index] = then if same(then, otherwise) else ("if", part[1], then, otherwise)
    return results[0]


_LEAF = object()


# --- symbols and conditions ----------------------------------------------------------------


def _expr(x: object) -> Expr:
    """An operand as an expression: a symbol's, or a number's float."""
    if isinstance(x, Symbol):
        return x.expr
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    raise SymbolicError(f"a symbol cannot meet {type(x).__name__} {x!r}")


def _operand(x: object) -> bool:
    return isinstance(x, Symbol) or (isinstance(x, (int, float)) and not isinstance(x, bool))


class Condition:
    """A comparison of symbols. Asked for a bool, it asks the path being explored."""

    __slots__ = ("expr",)

    def __init__(self, expr: Expr) -> None:
        self.expr = expr

    def __bool__(self) -> bool:
        expr = self.expr
        if isinstance(expr, tuple) and expr[0] in ("and", "or", "not"):
            parts = [Condition(part) for part in expr[1:]]
            if expr[0] == "not":
                return not parts[0]
            if expr[0] == "and":
                return bool(parts[0]) and bool(parts[1])
            return bool(parts[0]) or bool(parts[1])
        path = _PATH.get()
        if path is not None:
            return path.decide(expr)
        answer = Facts().implied(expr)  # decided by its numbers alone (4.0 == 0.0)?
        if answer is None:
            raise SymbolicError(
                f"the truth of {expr!r} is asked outside autograd_lite.symbolic.explore()"
            )
        return answer

    def __repr__(self) -> str:
        return f"Condition({self.expr!r})"


def _condition(op: str, a: object, b: object) -> Condition | Any:
    if not _operand(b):
        return NotImplemented
    return Condition((op, _expr(a), _expr(b)))


def _is_true(*parts: Expr) -> bool:
    """Ask a condition ``(op, a, b)`` of the path (a helper for the checks below)."""
    return bool(Condition(tuple(parts)))


class Symbol:
    """A float not known yet: arithmetic on it writes its expression (``.expr``).

    It raises where Python's floats raise: ``ZeroDivisionError`` for a division by 0 (or
    0 to a negative power), ``ValueError`` for the log of a number <= 0 or the square root
    of a negative one, ``OverflowError`` when
    ``exp`` or ``**`` of finite numbers is too large for a float -- on the paths where it
    happens. Turning it into a float (``math.exp(symbol)``, ``float(symbol)``) raises
    ``SymbolicError``: use ``autograd_lite.elementary``'s functions instead.

    >>> x, y = Symbol("x"), Symbol("y")
    >>> (2.0 * x - y / 4.0).expr
    ('-', ('*', 2.0, 'x'), ('/', 'y', 4.0))
    >>> import math
    >>> math.exp(x)
    Traceback (most recent call last):
    ...
    autograd_lite.symbolic.SymbolicError: a symbolic number (x) cannot become a float: the \
code calls something that works on floats only (a function of math, float(), ...); use \
autograd_lite.elementary's exp, log, sqrt, tanh, isfinite
    """

    __slots__ = ("expr",)
    __hash__ = None  # type: ignore[assignment]  # == gives a Condition

    def __init__(self, expr: Expr) -> None:
        self.expr = expr

    def __repr__(self) -> str:
        return self.expr if isinstance(self.expr, str) else f"Symbol({self.expr!r})"

    # arithmetic: a new expression (an operand that is neither a symbol nor a number: Python
    # asks it next)
    def _binary(self, operator: str, other: object, reflected: bool = False) -> Symbol | Any:
        if not _operand(other):
            return NotImplemented
        a, b = (_expr(other), self.expr) if reflected else (self.expr, _expr(other))
        if operator == "/":
            return _divide(a, b)
        if operator == "pow":
            return _power(a, b)
        return Symbol((operator, a, b))

    def __add__(self, other: object) -> Symbol:
        return self._binary("+", other)

    def __radd__(self, other: object) -> Symbol:
        return self._binary("+", other, reflected=True)

    def __sub__(self, other: object) -> Symbol:
        return self._binary("-", other)

    def __rsub__(self, other: object) -> Symbol:
        return self._binary("-", other, reflected=True)

    def __mul__(self, other: object) -> Symbol:
        return self._binary("*", other)

    def __rmul__(self, other: object) -> Symbol:
        return self._binary("*", other, reflected=True)

    def __truediv__(self, other: object) -> Symbol:
        return self._binary("/", other)

    def __rtruediv__(self, other: object) -> Symbol:
        return self._binary("/", other, reflected=True)

    def __pow__(self, other: object) -> Symbol:
        return self._binary("pow", other)

    def __rpow__(self, other: object) -> Symbol:
        return self._binary("pow", other, reflected=True)

    def __neg__(self) -> Symbol:
        return Symbol(("neg", self.expr))

    def __pos__(self) -> Symbol:
        return self

    def __abs__(self) -> Symbol:
        return Symbol(("abs", self.expr))

    # comparisons: a Condition, decided where Python asks for its truth
    def __lt__(self, other: object) -> Condition:
        return _condition("<", self, other)

    def __le__(self, other: object) -> Condition:
        return _condition("<=", self, other)

    def __gt__(self, other: object) -> Condition:
        return _condition(">", self, other)

    def __ge__(self, other: object) -> Condition:
        return _condition(">=", self, other)

    def __eq__(self, other: object) -> Condition:  # type: ignore[override]
        return _condition("==", self, other)

    def __ne__(self, other: object) -> Condition:  # type: ignore[override]
        return _condition("!=", self, other)

    def __bool__(self) -> bool:  # a float is true when it is not 0 (NaN is true)
        return bool(Condition(("!=", self.expr, 0.0)))

    # the elementary functions (autograd_lite.elementary calls these for a symbol)
    def exp(self) -> Symbol:
        result = ("exp", self.expr)
        if _overflows(result, self.expr):  # math.exp raises where e^x is too large
            raise OverflowError("math range error")
        return Symbol(result)

    def log(self) -> Symbol:
        if _is_true("<=", self.expr, 0.0):
            raise ValueError("math domain error")
        return Symbol(("log", self.expr))

    def sqrt(self) -> Symbol:
        if _is_true("<", self.expr, 0.0):
            raise ValueError("math domain error")
        return Symbol(("sqrt", self.expr))

    def tanh(self) -> Symbol:
        return Symbol(("tanh", self.expr))

    def isfinite(self) -> Condition:
        return Condition(("<", ("abs", self.expr), INF))

    def is_integer(self) -> Condition:
        """As ``float.is_integer``: a finite whole number."""
        return Condition(
            ("and", ("<", ("abs", self.expr), INF), ("==", self.expr, ("floor", self.expr)))
        )

    # what only numbers can do
    def _not_a_number(self, *_: object) -> Any:
        raise SymbolicError(
            f"a symbolic number ({self!r}) cannot become a float: the code calls something "
            "that works on floats only (a function of math, float(), ...); use "
            "autograd_lite.elementary's exp, log, sqrt, tanh, isfinite"
        )

    __float__ = __int__ = __index__ = __round__ = __trunc__ = __floor__ = __ceil__ = _not_a_number
    __format__ = _not_a_number  # type: ignore[assignment]


def _overflows(result: Expr, *finite: Expr) -> bool:
    """True on the paths where ``result`` is infinite although ``finite`` are not: there
    Python raises OverflowError instead."""
    return _is_true("==", ("abs", result), INF) and all(
        _is_true("<", ("abs", part), INF) for part in finite
    )


def _divide(a: Expr, b: Expr) -> Symbol:
    if _is_true("==", b, 0.0):
        raise ZeroDivisionError("float division by zero")
    return Symbol(("/", a, b))


def _power(a: Expr, b: Expr) -> Symbol:
    """``a ** b`` as Python's floats do it, where they raise too."""
    if _is_true("==", a, 0.0) and _is_true("<", b, 0.0):
        raise ZeroDivisionError("0.0 cannot be raised to a negative power")
    # (a negative base to a fractional power gives a complex number, not an error: the
    # engine's ** refuses it before it gets here)
    result = ("pow", a, b)
    if _overflows(result, a, b):
        raise OverflowError("(34, 'Numerical result out of range')")
    return Symbol(result)


def fsum(values: Sequence[object]) -> Symbol:
    """``math.fsum`` of symbols (and numbers): the exact sum, rounded once.

    >>> fsum([Symbol("a"), 2.0, Symbol("b")]).expr
    ('fsum', 'a', 2.0, 'b')
    """
    return Symbol(("fsum", *map(_expr, values)))
