"""The C replay: one small interpreter of programs, compiled once, loaded with ``ctypes``.

The interpreter's source is generated from ``formulas.FORMULAS`` (one ``case`` per op,
rendered to C) and is the same for every graph: it reads the flat program (op codes, input
indices) and runs the forward and the backward pass over arrays of doubles. It is compiled
with the system C compiler on first use and cached under the user's cache directory
(``$AUTOGRAD_LITE_CACHE``, else ``$XDG_CACHE_HOME/autograd_lite``, else
``~/.cache/autograd_lite``), named by a hash of its source, so a changed table means a new
build; the generated source is kept beside it (``replay-<hash>.c``), to read. Without a
compiler, ``BackendUnavailableError`` says so in one line.

Floating point: ``-ffp-contract=off`` keeps every ``a * b + c`` two roundings, as in
Python; sums are added in the engine's order and ``sum`` nodes are rounded once, as
``math.fsum`` does, so results equal the engine's (bit for bit with the same libm, but for
the sign of a zero gradient: as in the python backend, a node whose gradient is 0 is
skipped).

>>> print(interpreter_source().splitlines()[0])
/* autograd_lite replay interpreter: generated from autograd_lite/program/formulas.py */
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

from autograd_lite.program.backends import (
    LEAF,
    BackendUnavailableError,
    Replay,
    Result,
    layout,
    refused,
)
from autograd_lite.program.formulas import FORMULAS, OPS, finite_slopes, render
from autograd_lite.program.trace import Program

__all__ = ["CReplay", "build_interpreter", "cache_directory", "find_compiler", "interpreter_source"]

FLAGS = ["-O2", "-ffp-contract=off", "-fPIC", "-shared"]

_FSUM = r"""
/* Where math.fsum gives up (inf or nan among the inputs, an intermediate overflow), the
   engine adds left to right instead (sums.exact_sum). */
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
       every value is finite and its op's slopes are (formulas.finite_slopes). */
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


def _case(op: str) -> list[str]:
    code = OPS.index(op)
    if op == "weighted_sum":  # b + w1*a1 + ... left to right, as the engine
        body = [
            "int e = starts[i + 1] - 1, h = (e - s) / 2;",
            "double acc = V[flat[e]];",
            "for (int k = 0; k < h; k++) {",
            "    double w = V[flat[s + k]], a = V[flat[s + h + k]];",
            "    acc += w * a;",
            "    L[s + k] = a;",
            "    L[s + h + k] = w;",
            "}",
            "L[e] = 1.0;",
            "V[i] = acc;",
        ]
    elif op == "sum":
        body = [
            "V[i] = al_fsum(V, flat + s, starts[i + 1] - s);",
            "for (int k = s; k < starts[i + 1]; k++) L[k] = 1.0;",
        ]
    else:
        formula = FORMULAS[op]
        body = [f"double {name} = V[flat[s + {k}]];" for k, name in enumerate(formula.inputs)]
        body.append(f"double out = {render(formula.forward, 'c')};")
        if formula.refuse is not False:
            body.append(f"if ({render(formula.refuse, 'c')}) return i;")
        body.append("V[i] = out;")
        body += [
            f"L[s + {k}] = {render(derivative, 'c')};"
            for k, derivative in enumerate(formula.derivatives)
        ]
        body.append("(void)out;")
    lines = [f"        case {code}: {{  /* {op} */"]
    lines += ["            " + line for line in body]
    lines += ["            break;", "        }"]
    return lines


def interpreter_source() -> str:
    """The C source of the interpreter (the same for every program)."""
    cases = "\n".join(line for op in OPS for line in _case(op))
    return (
        "/* autograd_lite replay interpreter: generated from autograd_lite/program/formulas.py */\n"
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


_library: ctypes.CDLL | None = None


def build_interpreter() -> ctypes.CDLL:
    """Compile the interpreter if it is not in the cache yet, and load it (once)."""
    global _library
    if _library is not None:
        return _library
    source = interpreter_source()
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
    _library = library
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
        self._library = build_interpreter()
        shape = layout(program)
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
        slopes = {op: finite_slopes(op) for op in set(program.ops) if op}
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
