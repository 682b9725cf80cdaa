"""The C replay: one small interpreter of programs, compiled once, loaded with ``ctypes``.

The interpreter's source is generated from the ops' expressions (``autograd_lite.expressions``,
read off the engine's forwards and rules: one ``case`` per op, rendered to C) and is the same
for every graph: it reads the flat program (op codes, input indices) and runs the forward
and the backward pass over arrays of doubles. It is compiled with the system C compiler on
first use and cached under the user's cache directory (``$AUTOGRAD_LITE_CACHE``, else
``$XDG_CACHE_HOME/autograd_lite``, else ``~/.cache/autograd_lite``), named by a hash of its
source, so another op (yours, registered in your own file) or a changed rule means a new
build; the generated source is kept beside it (``replay-<hash>.c``), to read. Without a
compiler, ``BackendUnavailableError`` says so in one line.

Floating point: ``-ffp-contract=off`` keeps every ``a * b + c`` two roundings, as in
Python; sums are added in the engine's order and ``sum`` nodes are rounded once, as
``math.fsum`` does, so results equal the engine's (bit for bit with the same libm, but for
the sign of a zero gradient: as in the python backend, a node whose gradient is 0 is
skipped).

>>> print(interpreter_source(("+", "*")).splitlines()[0])
/* autograd_lite replay interpreter: generated from the ops' forwards and rules */
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograd_lite.expressions import FoldExpressions, expressions, replayable_ops
from autograd_lite.program.backends import (
    LEAF,
    BackendUnavailableError,
    Replay,
    Result,
    layout,
    refused,
)
from autograd_lite.program.python_backend import fold_positions
from autograd_lite.program.render import render
from autograd_lite.program.trace import Program
from autograd_lite.symbolic import variables

__all__ = ["CReplay", "build_interpreter", "c_ops", "cache_directory", "find_compiler",
           "interpreter_source"]  # fmt: skip

FLAGS = ["-O2", "-ffp-contract=off", "-fPIC", "-shared"]

_FSUM = r"""
/* Where math.fsum gives up (inf or nan among the inputs, an intermediate overflow), the
   engine adds left to right instead (elementary.exact_sum). */
static double al_plain_sum(const double *V, const int *idx, int n) {
    double total = 0.0;
    for (int j = 0; j < n; j++) total += V[idx[j]];
    return total;
}

/* math.fsum: the exact sum rounded once (Shewchuk's partials, as CPython does it). */
static double al_fsum(const double *V, const int *idx, int n) {
    double p[128];
    int m = 0;
    for (int k = 0; k < n; k++) {
        double x = V[idx[k]];
        if (!isfinite(x) || m >= 127) return al_plain_sum(V, idx, n);
        int i = 0;
        for (int j = 0; j < m; j++) {
            double y = p[j];
            if (fabs(x) < fabs(y)) { double t = x; x = y; y = t; }
            double hi = x + y;
            if (isinf(hi)) return al_plain_sum(V, idx, n);  /* fsum: intermediate overflow */
            double lo = y - (hi - x);
            if (lo != 0.0) p[i++] = lo;
            x = hi;
        }
        m = i;
        p[m++] = x;
    }
    double hi = 0.0;
    if (m > 0) {
        double lo = 0.0;
        hi = p[--m];
        while (m > 0) {
            double x = hi;
            double y = p[--m];
            hi = x + y;
            double yr = hi - x;
            lo = y - yr;
            if (lo != 0.0) break;
        }
        /* round half to even, as CPython: look at the next partial */
        if (m > 0 && ((lo < 0.0 && p[m - 1] < 0.0) || (lo > 0.0 && p[m - 1] > 0.0))) {
            double y = lo * 2.0;
            double x = hi + y;
            double yr = x - hi;
            if (y == yr) hi = x;
        }
    }
    return hi;
}
"""

_RUN = r"""
/* Feed the inputs and parameters, run forward then backward, and gather the gradients
   of the parameters. Returns -1, or the index of the first node whose op refuses its
   inputs (as the engine would raise there). G receives d(loss)/d(every node). */
int al_run(int n, int count, const int *computed, const int *codes, const int *starts,
           const int *flat, double *V, double *L, double *G, int loss,
           int n_inputs, const int *input_at, const double *inputs,
           int n_params, const int *param_at, const double *params, double *gradients,
           const int *skippable) {
    for (int k = 0; k < n_inputs; k++) V[input_at[k]] = inputs[k];
    for (int k = 0; k < n_params; k++) V[param_at[k]] = params[k];
    for (int c = 0; c < count; c++) {
        int i = computed[c];
        int s = starts[i];
        switch (codes[i]) {
%s
        default: return i;
        }
    }
    /* A node whose gradient is 0 adds 0 * (finite slope) = 0 to each input: skip it when
       every value is finite and its op's slopes are (expressions: finite_slopes). */
    int finite = 1;
    for (int i = 0; i < n; i++) {
        G[i] = 0.0;
        if (!isfinite(V[i])) finite = 0;
    }
    G[loss] = 1.0;
    for (int c = count - 1; c >= 0; c--) {
        int i = computed[c];
        double up = G[i];
        if (up == 0.0 && finite && skippable[i]) continue;
        for (int k = starts[i]; k < starts[i + 1]; k++) G[flat[k]] += L[k] * up;
    }
    for (int k = 0; k < n_params; k++) gradients[k] = G[param_at[k]];
    return -1;
}
"""


def _case(op: str, code: int) -> list[str]:
    found = expressions(op)
    if isinstance(found, FoldExpressions):
        body = _fold_case(found)
    else:
        body = [f"double {name} = V[flat[s + {k}]];" for k, name in enumerate(found.inputs)]
        body.append(f"double out = {render(found.forward, 'c')};")
        if found.refuse is not False:
            body.append(f"if ({render(found.refuse, 'c')}) return i;")
        body.append("V[i] = out;")
        body += [
            f"L[s + {k}] = {render(derivative, 'c')};"
            for k, derivative in enumerate(found.derivatives)
        ]
        body.append("(void)out;")
    lines = [f"        case {code}: {{  /* {op} */"]
    lines += ["            " + line for line in body]
    lines += ["            break;", "        }"]
    return lines


def _fold_case(fold: FoldExpressions) -> list[str]:
    """A fold's case: out = start + term(0) + term(1) + ... left to right (or, for an exact
    sum of one list, al_fsum), and each input's derivative, index by index."""
    lists, singles = sum(fold.many), len(fold.many) - sum(fold.many)
    count = f"starts[i + 1] - s - {singles}" if singles else "starts[i + 1] - s"
    body = [f"int n = ({count}) / {lists};" if lists > 1 else f"int n = {count};"]
    at = fold_positions(fold)
    names = {group: f"g{k}" for k, group in enumerate(fold.groups)}
    for k, many in enumerate(fold.many):
        if not many:
            body.append(f"double g{k} = V[flat[{at[k]}]];")
    # each loop: (its lines, the expressions they read), over the lists' element k
    inside: tuple[list[str], list] = ([], [])
    after: tuple[list[str], list] = ([], [])
    if fold.exact:  # only as the engine's sum: the exact sum of one list
        body.append(f"double out = al_fsum(V, flat + {at[fold.many.index(True)]}, n);")
    else:
        body.append(f"double out = {render(fold.start, 'c', names)};")
        inside[0].append(f"out += {render(fold.term, 'c', names)};")
        inside[1].append(fold.term)
    for k, (many, derivative) in enumerate(zip(fold.many, fold.derivatives)):
        line = f"L[{at[k]}{' + k' * many}] = {render(derivative, 'c', names)};"
        if not many:
            body.append(line)
            continue
        loop = after if "out" in variables(derivative) else inside  # after the whole sum
        loop[0].append(line)
        loop[1].append(derivative)
    for lines, read in (inside, after):
        if not lines:
            continue
        used = set().union(*map(variables, read))
        elements = [f"g{k} = V[flat[{at[k]} + k]]" for k, (group, many) in
                    enumerate(zip(fold.groups, fold.many)) if many and group in used]  # fmt: skip
        body.append("for (int k = 0; k < n; k++) {")
        body += [f"    double {', '.join(elements)};"] * bool(elements)
        body += ["    " + line for line in lines] + ["}"]
    return [*body, "V[i] = out;"]


def c_ops() -> tuple[str, ...]:
    """The ops the C interpreter is built for: every registered op that reads off as
    expressions, but a fold this interpreter cannot write (an exact sum of computed terms)."""
    found = []
    for op in replayable_ops():
        fold = expressions(op)
        if isinstance(fold, FoldExpressions) and fold.exact:
            if sum(fold.many) != 1 or len(fold.many) != 1 or fold.term != fold.groups[0]:
                continue
        found.append(op)
    return tuple(found)


def interpreter_source(ops: tuple[str, ...]) -> str:
    """The C source of the interpreter for the table ``ops`` (the same for every program)."""
    cases = "\n".join(line for code, op in enumerate(ops) for line in _case(op, code))
    return (
        "/* autograd_lite replay interpreter: generated from the ops' forwards and rules */\n"
        "#include <math.h>\n" + _FSUM + _RUN % cases
    )


def cache_directory() -> Path:
    """Where the compiled interpreter is kept."""
    if os.environ.get("AUTOGRAD_LITE_CACHE"):
        return Path(os.environ["AUTOGRAD_LITE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "autograd_lite"


def find_compiler() -> str | None:
    """The C compiler to use: ``$CC``, else cc, gcc or clang on the PATH; None if none."""
    if os.environ.get("CC"):
        return shutil.which(os.environ["CC"])
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return path
    return None


_library: dict[tuple[str, ...], ctypes.CDLL] = {}  # per table of ops, loaded once


def build_interpreter(ops: tuple[str, ...] | None = None) -> ctypes.CDLL:
    """Compile the interpreter for the table ``ops`` (by default ``c_ops()``) if it is not
    in the cache yet, and load it (once per table)."""
    ops = c_ops() if ops is None else ops
    if ops in _library:
        return _library[ops]
    source = interpreter_source(ops)
    digest = hashlib.sha256((source + " ".join(FLAGS) + sys.platform).encode()).hexdigest()[:16]
    target = cache_directory() / f"replay-{digest}.so"
    if not target.exists():
        _compile(source, target)
    library = ctypes.CDLL(str(target))
    pointer = ctypes.POINTER
    int_p, double_p = pointer(ctypes.c_int), pointer(ctypes.c_double)
    library.al_run.argtypes = [ctypes.c_int, ctypes.c_int, int_p, int_p, int_p, int_p,
                               double_p, double_p, double_p, ctypes.c_int,
                               ctypes.c_int, int_p, double_p,
                               ctypes.c_int, int_p, double_p, double_p, int_p]  # fmt: skip
    library.al_run.restype = ctypes.c_int
    _library[ops] = library
    return library


def _compile(source: str, target: Path) -> None:
    compiler = find_compiler()
    if compiler is None:
        raise BackendUnavailableError(
            "the c backend needs a C compiler (cc, gcc or clang; e.g. apt-get install gcc); "
            "the python backend needs none"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackendUnavailableError(
            f"the c backend cannot write its cache {target.parent}: {error.strerror}; "
            "set AUTOGRAD_LITE_CACHE to a writable folder"
        ) from None
    with tempfile.TemporaryDirectory(dir=target.parent) as folder:
        c_file, built = Path(folder) / "replay.c", Path(folder) / target.name
        c_file.write_text(source)
        done = subprocess.run(
            [compiler, *FLAGS, "-o", str(built), str(c_file), "-lm"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["no message"])[0]
            raise BackendUnavailableError(
                f"the c backend failed to compile with {compiler}: {first}"
            )
        os.replace(c_file, target.with_suffix(".c"))  # the source, beside it, to read
        os.replace(built, target)  # atomic: a concurrent build sees all or nothing


def _ints(values: list[int]) -> ctypes.Array:
    return (ctypes.c_int * max(len(values), 1))(*values)


class CReplay(Replay):
    """Replay with the compiled C interpreter (see the module docstring)."""

    name = "c"

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        ops = c_ops()
        self._library = build_interpreter(ops)
        shape = layout(program, ops)
        computed = [i for i, code in enumerate(shape.codes) if code != LEAF]
        n = len(program)
        self._arrays = (
            _ints(computed),
            _ints(shape.codes),
            _ints(shape.starts),
            _ints(shape.flat),
        )
        self._count = len(computed)
        self._values = (ctypes.c_double * n)(*program.values)
        self._locals = (ctypes.c_double * max(len(shape.flat), 1))()
        self._grads = (ctypes.c_double * n)()
        self._input_at, self._param_at = _ints(program.inputs), _ints(program.parameters)
        self._input_type = ctypes.c_double * len(program.inputs)
        self._param_type = ctypes.c_double * len(program.parameters)
        self._gradients = (ctypes.c_double * max(len(program.parameters), 1))()
        slopes = {op: expressions(op).finite_slopes for op in set(program.ops) if op}
        self._skippable = _ints([int(bool(op) and slopes[op]) for op in program.ops])

    def _run(self, inputs: list[float], params: list[float]) -> Result:
        program, values = self.program, self._values
        failed = self._library.al_run(
            len(program), self._count, *self._arrays, values, self._locals, self._grads,
            program.loss, len(program.inputs), self._input_at, self._input_type(*inputs),
            len(program.parameters), self._param_at, self._param_type(*params), self._gradients,
            self._skippable,
        )  # fmt: skip
        if failed >= 0:
            raise refused(program, failed, values)
        return Result(
            values[program.loss],
            self._gradients[: len(program.parameters)],
            [values[i] for i in program.outputs],
        )
