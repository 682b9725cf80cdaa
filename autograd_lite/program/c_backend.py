"""The C replay: one small interpreter of programs, compiled once, loaded with ``ctypes``.

The interpreter's source is generated from the ops' expressions (``autograd_lite.expressions``,
read off the engine's forwards and rules: one ``case`` per op, rendered to C) and is the same
for every graph: it reads the flat program (op codes, input indices) and runs the forward
and the backward pass over arrays of doubles. It is compiled with the system C compiler on
first use and cached under the user's cache directory (``$AUTOGRAD_LITE_CACHE``, else
``$XDG_CACHE_HOME/autograd_lite``, else ``~/.cache/autograd_lite``), named by a hash of its
source, its flags and the processor, so another op (yours, registered in your own file) or
a changed rule means a new build; the generated source is kept beside it
(``replay-<hash>.c``), to read. Without a compiler, ``BackendUnavailableError`` says so in
one line.

**Layers.** Where the program has layers (``layers.plan``: the weighted sums of a layer,
found by their shape, with their activation), each runs as loops over blocks of numbers --
``Z = A Wᵀ + b`` forward, ``δ aᵀ`` and ``Wᵀ δ`` backward -- several neurons (or inputs) at
once in vector lanes, every lane adding in the engine's order; the other nodes (losses,
penalties, your own ops) run one by one through the interpreter. The nodes are numbered
anew for this: the parameters first, then the inputs, then each layer's blocks.

**One call a step.** ``run(inputs, params)`` takes and gives lists, as every backend. Without
lists: write into ``buffers.inputs`` and ``buffers.params`` (memoryviews of the replay's own
numbers), call ``step()`` -- one call into C -- and read ``buffers.gradients``.
``FlatUpdate`` applies an optimizer's rule, compiled, to such a buffer: ``fit(backend="c")``
keeps the weights there for a whole run.

Floating point: ``-ffp-contract=off`` keeps every ``a * b + c`` two roundings, as in
Python, and nothing is reordered (no ``-ffast-math``); sums are added in the engine's order
and ``sum`` nodes are rounded once, as ``math.fsum`` does, so results equal the engine's
(bit for bit with the same libm, but for the sign of a zero gradient: a node whose gradient
is 0 adds only zeros, and is skipped or not).

>>> print(interpreter_source(("+", "*")).splitlines()[0])
/* autograd_lite replay interpreter: generated from the ops' forwards and rules */
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path

from autograd_lite.checks import check_number
from autograd_lite.expressions import FoldExpressions, OpExpressions, expressions, replayable_ops
from autograd_lite.program.backends import (
    BackendUnavailableError,
    Buffers,
    Replay,
    ReplayError,
    Result,
    op_codes,
    refused,
)
from autograd_lite.program.layers import Layer, Plan, needs_gradient, plan
from autograd_lite.program.python_backend import fold_positions
from autograd_lite.program.render import render
from autograd_lite.program.trace import Program
from autograd_lite.symbolic import HOLE, Symbol, assemble, explore, variables

__all__ = ["Buffers", "CReplay", "build_interpreter", "build_update", "c_ops",
           "cache_directory", "find_compiler", "interpreter_source", "update_source"]  # fmt: skip

# -ffp-contract=off: every a * b + c is two roundings, as in Python (no fused multiply-add);
# -O3 and the machine's vector instructions run a layer's loops several lanes at a time, each
# lane adding in the engine's order (no -ffast-math: nothing is reordered).
FLAGS = ["-O3", "-march=native", "-ffp-contract=off", "-fPIC", "-shared"]

_FSUM = r"""
/* Where math.fsum gives up (inf or nan among the inputs, an intermediate overflow), the
   engine adds left to right instead (elementary.exact_sum). */
static double al_plain_sum(const double *V, const int *idx, int n) {
    double total = 0.0;
    for (int j = 0; j < n; j++) total += V[idx[j]];
    return total;
}

/* math.fsum: the exact sum rounded once (Shewchuk's partials, as CPython does it). */
static double al_fsum_exact(const double *V, const int *idx, int n) {
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
        if (x != 0.0) p[m++] = x;  /* as CPython: a zero is no partial (fsum(-0.0) is 0.0) */
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

/* math.fsum, fast: the running sum s, and the rounding error of each addition (TwoSum, exact)
   added up in c. The exact sum is s + (the errors' exact sum) = r + delta + (the errors'
   exact sum - c), with r = s + c rounded and delta its own error (exact again); the last
   term is below 2 n eps times the sum of the |errors|. Where all that is within a quarter
   of r's last place, r is the exact sum rounded once -- math.fsum's number -- and else (a
   sum near a tie, or 0, or not finite) the partials above decide. */
static double al_fsum(const double *V, const int *idx, int n) {
    double s = 0.0, c = 0.0, size = 0.0;
    for (int k = 0; k < n; k++) {
        double x = V[idx[k]], t = s + x, z = t - s;
        double e = (s - (t - z)) + (x - z);
        s = t;
        c += e;
        size += fabs(e);
    }
    if (isfinite(s) && isfinite(size)) {
        double r = s + c, z = r - s;
        double delta = (s - (r - z)) + (c - z);
        double bound = fabs(delta) + 2.0 * n * DBL_EPSILON * size;
        double last = nextafter(fabs(r), INFINITY) - fabs(r);
        if (r != 0.0 && isfinite(r) && isfinite(last) && bound < 0.25 * last) return r;
    }
    return al_fsum_exact(V, idx, n);
}
"""

_PLAN = r"""
/* --- a program's plan: its layers as loops, every other node one case of the interpreter -- */

/* Where a grid's numbers are: node base + r * stride + c (a block of V, read in place), or,
   when nodes is set, node nodes[r * columns + c] (gathered into a copy). */
typedef struct { int base, stride; const int *nodes; } al_view;

typedef struct {
    int rows, neurons, inputs;  /* a sample per row, a weighted sum per neuron and row */
    int act;                    /* op code of the activation run with the layer, or -1 */
    al_view a, w, b, y;         /* activations (rows x inputs), weights (neurons x inputs),
                                   biases (neurons x 1); y: the activation's second input
                                   (rows x neurons; y.nodes NULL: it has none) */
    int z, out;                 /* first node of the z block and of the activations' block
                                   (rows x neurons each, row by row) */
    int grad_a, grad_w;         /* add to the gradients of the activations / of the weights
                                   and biases (not where no parameter's gradient goes) */
    const int *row_order, *neuron_order;  /* the engine's backward order of rows, neurons */
    /* scratch, padded to whole vectors of lanes (AL_LANES): */
    double *wt, *bp;            /* inputs x neurons_padded: the weights transposed; biases */
    double *wp, *gwp;           /* neurons x inputs_padded: the weights; their gradients */
    double *ap, *gap;           /* rows x inputs_padded: the activations; their gradients */
    double *gb, *slopes, *delta, *y_copy;  /* neurons; rows x neurons (three) */
} al_layer;

typedef struct {
    int n, loss, n_params, n_inputs;  /* V[0:n_params]: the parameters, then the inputs */
    int count;
    const int *schedule;   /* the forward order: node i, or -1 - k for layers[k] */
    const int *codes, *starts, *flat, *skippable, *original;
    double *V, *L, *G;
    const double *params;  /* copied into V[0:n_params] first, unless it is V itself */
    int n_layers;
    al_layer *layers;
    int n_outputs;
    const int *output_at;
    double *outputs;
} al_plan;

/* The first refusing node in the engine's order: the smallest program index. */
static int al_first(int found, int node) { return (found < 0 || node < found) ? node : found; }

/* Copy a view's numbers (rows x columns) into a block of row stride `stride`, or back. */
static void al_fill(const al_view *v, const double *X, int rows, int columns, double *into,
                    int stride) {
    if (v->nodes)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) into[r * stride + c] = X[v->nodes[r * columns + c]];
    else
        for (int r = 0; r < rows; r++)
            memcpy(into + r * stride, X + v->base + r * v->stride, sizeof(double) * columns);
}

static void al_spill(const al_view *v, double *X, int rows, int columns, const double *from,
                     int stride) {
    if (v->nodes)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) X[v->nodes[r * columns + c]] = from[r * stride + c];
    else
        for (int r = 0; r < rows; r++)
            memcpy(X + v->base + r * v->stride, from + r * stride, sizeof(double) * columns);
}

/* The loops below run AL_LANES neighbours at once (neurons forward, inputs backward) in
   vectors, over blocks of 4 rows or neurons; each lane adds its own sum in the engine's
   order, one multiplication and one addition at a time. */
#define AL_LANES 8
#define AL_PAD(n) (((n) + AL_LANES - 1) / AL_LANES * AL_LANES)
#define AL_INLINE static inline __attribute__((always_inline))
typedef double al_vec __attribute__((vector_size(AL_LANES * sizeof(double))));
typedef double al_vec_u
    __attribute__((vector_size(AL_LANES * sizeof(double)), aligned(sizeof(double)), may_alias));
#define AL_LOAD(p) (*(const al_vec_u *)(p))

/* Store a vector's first `valid` lanes. */
AL_INLINE void al_store(double *into, al_vec v, int valid) {
    if (valid == AL_LANES) {
        *(al_vec_u *)into = v;
    } else {
        double lanes[AL_LANES];
        memcpy(lanes, &v, sizeof lanes);
        for (int u = 0; u < valid; u++) into[u] = lanes[u];
    }
}

/* z of RB (1 or 4) rows: b, then + w*a for each input in order. */
AL_INLINE void al_forward_rows(int RB, int N, int M, const double *A, int as,
                               const double *WT, const double *bp, double *Z) {
    int Mp = AL_PAD(M);
    for (int j0 = 0; j0 < M; j0 += AL_LANES) {
        al_vec b = AL_LOAD(bp + j0), acc0 = b, acc1 = b, acc2 = b, acc3 = b;
        for (int i = 0; i < N; i++) {
            al_vec wt = AL_LOAD(WT + i * Mp + j0);
            acc0 += wt * A[i];
            if (RB == 4) {
                acc1 += wt * A[as + i];
                acc2 += wt * A[2 * as + i];
                acc3 += wt * A[3 * as + i];
            }
        }
        int valid = M - j0 < AL_LANES ? M - j0 : AL_LANES;
        al_store(Z + j0, acc0, valid);
        if (RB == 4) {
            al_store(Z + M + j0, acc1, valid);
            al_store(Z + 2 * M + j0, acc2, valid);
            al_store(Z + 3 * M + j0, acc3, valid);
        }
    }
}

/* dE/da of RB (1 or 4) rows: + w * delta for each neuron, in neuron_order. */
AL_INLINE void al_back_rows(int RB, int M, int Np, const int *order, const double *wp,
                            const double *D, double *gap) {
    for (int i0 = 0; i0 < Np; i0 += AL_LANES) {
        al_vec acc0 = AL_LOAD(gap + i0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        if (RB == 4) {
            acc1 = AL_LOAD(gap + Np + i0);
            acc2 = AL_LOAD(gap + 2 * Np + i0);
            acc3 = AL_LOAD(gap + 3 * Np + i0);
        }
        for (int p = 0; p < M; p++) {
            int j = order[p];
            al_vec w = AL_LOAD(wp + j * Np + i0);
            acc0 += w * D[j];
            if (RB == 4) {
                acc1 += w * D[M + j];
                acc2 += w * D[2 * M + j];
                acc3 += w * D[3 * M + j];
            }
        }
        al_store(gap + i0, acc0, AL_LANES);
        if (RB == 4) {
            al_store(gap + Np + i0, acc1, AL_LANES);
            al_store(gap + 2 * Np + i0, acc2, AL_LANES);
            al_store(gap + 3 * Np + i0, acc3, AL_LANES);
        }
    }
}

/* dE/dw of KB (1 or 4) neurons: + a * delta for each row, in row_order. */
AL_INLINE void al_back_neurons(int KB, int R, int M, int Np, const int *order,
                               const double *ap, const double *D, double *gwp) {
    for (int i0 = 0; i0 < Np; i0 += AL_LANES) {
        al_vec acc0 = AL_LOAD(gwp + i0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        if (KB == 4) {
            acc1 = AL_LOAD(gwp + Np + i0);
            acc2 = AL_LOAD(gwp + 2 * Np + i0);
            acc3 = AL_LOAD(gwp + 3 * Np + i0);
        }
        for (int q = 0; q < R; q++) {
            int r = order[q];
            al_vec a = AL_LOAD(ap + r * Np + i0);
            const double *d = D + r * M;
            acc0 += a * d[0];
            if (KB == 4) {
                acc1 += a * d[1];
                acc2 += a * d[2];
                acc3 += a * d[3];
            }
        }
        al_store(gwp + i0, acc0, AL_LANES);
        if (KB == 4) {
            al_store(gwp + Np + i0, acc1, AL_LANES);
            al_store(gwp + 2 * Np + i0, acc2, AL_LANES);
            al_store(gwp + 3 * Np + i0, acc3, AL_LANES);
        }
    }
}

static int al_layer_forward(const al_layer *y, double *V, const int *original, int found) {
    int R = y->rows, M = y->neurons, N = y->inputs, Mp = AL_PAD(M), Np = AL_PAD(N);
    /* the weights transposed (a row per input, the neurons side by side), the biases */
    if (y->w.nodes) {
        for (int j = 0; j < M; j++)
            for (int i = 0; i < N; i++) y->wt[i * Mp + j] = V[y->w.nodes[j * N + i]];
    } else {
        const double *W = V + y->w.base;
        for (int j = 0; j < M; j++)
            for (int i = 0; i < N; i++) y->wt[i * Mp + j] = W[j * y->w.stride + i];
    }
    al_fill(&y->b, V, M, 1, y->bp, 1);
    const double *A = V + y->a.base;
    int as = y->a.stride;
    if (y->a.nodes) {
        al_fill(&y->a, V, R, N, y->ap, Np);
        A = y->ap, as = Np;
    }
    double *Z = V + y->z;
    int r = 0;
    for (; r + 4 <= R; r += 4) al_forward_rows(4, N, M, A + r * as, as, y->wt, y->bp, Z + r * M);
    for (; r < R; r++) al_forward_rows(1, N, M, A + r * as, as, y->wt, y->bp, Z + r * M);
    if (y->act < 0) return found;
    const double *Y = 0;
    if (y->y.nodes) {
        al_fill(&y->y, V, R, M, y->y_copy, M);
        Y = y->y_copy;
    }
    double *out = V + y->out;
    if (al_activate(y->act, R * M, Z, Y, out, y->slopes))
        for (int e = 0; e < R * M; e++)
            if (al_refuses(y->act, Z[e], Y ? Y[e] : 0.0, out[e]))
                found = al_first(found, original[y->out + e]);
    return found;
}

/* The layer's chain-rule steps. Where every value is finite, a z whose gradient is 0 adds
   only zeros (the engine skips it): adding them too changes no sum, but for the sign of a
   zero. */
static void al_layer_backward(const al_layer *y, double *V, double *G) {
    int R = y->rows, M = y->neurons, N = y->inputs, Np = AL_PAD(N);
    const double *D = G + y->z;
    if (y->act >= 0) {
        const double *restrict up = G + y->out, *restrict slope = y->slopes;
        double *restrict delta = y->delta;
        /* each z's gradient: 0, plus its activation's one contribution, as the engine adds */
        for (int e = 0; e < R * M; e++) delta[e] = 0.0 + slope[e] * up[e];
        D = delta;
    }
    if (y->grad_a) {  /* dE/da += W^T delta, each over the neurons in neuron_order */
        al_fill(&y->w, V, M, N, y->wp, Np);
        al_fill(&y->a, G, R, N, y->gap, Np);
        int r = 0;
        for (; r + 4 <= R; r += 4)
            al_back_rows(4, M, Np, y->neuron_order, y->wp, D + r * M, y->gap + r * Np);
        for (; r < R; r++)
            al_back_rows(1, M, Np, y->neuron_order, y->wp, D + r * M, y->gap + r * Np);
        al_spill(&y->a, G, R, N, y->gap, Np);
    }
    if (y->grad_w) {  /* dE/dW += delta a^T and dE/db += delta, over the rows in row_order */
        al_fill(&y->a, V, R, N, y->ap, Np);
        al_fill(&y->w, G, M, N, y->gwp, Np);
        int j = 0;
        for (; j + 4 <= M; j += 4)
            al_back_neurons(4, R, M, Np, y->row_order, y->ap, D + j, y->gwp + j * Np);
        for (; j < M; j++)
            al_back_neurons(1, R, M, Np, y->row_order, y->ap, D + j, y->gwp + j * Np);
        al_spill(&y->w, G, M, N, y->gwp, Np);
        al_fill(&y->b, G, M, 1, y->gb, 1);
        double *restrict gb = y->gb;
        for (int q = 0; q < R; q++) {
            const double *restrict d = D + y->row_order[q] * M;
            for (int k = 0; k < M; k++) gb[k] += d[k];
        }
        al_spill(&y->b, G, M, 1, y->gb, 1);
    }
}

/* One step: feed the parameters, run forward then backward, gather the outputs. Returns -1;
   the program index of the first node (in the engine's order) whose op refuses its inputs,
   as the engine would raise there; or -2 - k when V[k] (a parameter, then an input) is not
   a finite number. G receives d(loss)/d(every node). */
int al_step(al_plan *P) {
    double *V = P->V, *L = P->L, *G = P->G;
    const int *codes = P->codes, *starts = P->starts, *flat = P->flat;
    const int *original = P->original;
    if (P->params != V) memcpy(V, P->params, sizeof(double) * P->n_params);
    for (int k = 0; k < P->n_params + P->n_inputs; k++)
        if (!isfinite(V[k])) return -2 - k;
    int found = -1;
    for (int c = 0; c < P->count; c++) {
        int i = P->schedule[c];
        if (i < 0) {
            found = al_layer_forward(&P->layers[-1 - i], V, original, found);
            continue;
        }
        int s = starts[i];
        switch (codes[i]) {
%s
        default: break;
        }
    }
    if (found >= 0) return found;
    /* A node whose gradient is 0 adds 0 * (finite slope) = 0 to each input: skip it when
       every value is finite and its op's slopes are (expressions: finite_slopes). */
    int finite = 1;
    for (int i = 0; i < P->n; i++) finite &= (fabs(V[i]) <= DBL_MAX);
    memset(G, 0, sizeof(double) * P->n);
    G[P->loss] = 1.0;
    for (int c = P->count - 1; c >= 0; c--) {
        int i = P->schedule[c];
        if (i < 0) {
            al_layer_backward(&P->layers[-1 - i], V, G);
            continue;
        }
        double up = G[i];
        if (up == 0.0 && finite && P->skippable[i]) continue;
        for (int k = starts[i]; k < starts[i + 1]; k++) G[flat[k]] += L[k] * up;
    }
    for (int k = 0; k < P->n_outputs; k++) P->outputs[k] = V[P->output_at[k]];
    return -1;
}

/* fit's batches: rows of a data set (width numbers each) copied into a replay's inputs. */
void al_gather(int count, const int *rows, int width, const double *data, double *into) {
    for (int k = 0; k < count; k++)
        memcpy(into + k * width, data + (long)rows[k] * width, sizeof(double) * width);
}

/* fit's accuracy of two classes (nn.metrics.binary_accuracy's count): the outputs above
   the threshold exactly where the target is positive. A NaN output is not above. */
int al_binary_correct(const double *outputs, const double *positive, int n, double threshold) {
    int correct = 0;
    for (int k = 0; k < n; k++) correct += (outputs[k] > threshold) == (positive[k] != 0.0);
    return correct;
}
"""


def _activation_source(ops: tuple[str, ...]) -> str:
    """``al_activate`` and ``al_refuses``: the ops a layer's activation can be (one input, or
    two whose second is a number no gradient goes to, as leaky_relu's slope), each as a loop
    over a block, from the op's expressions."""
    loops, refusals = [], []
    for code, op in enumerate(ops):
        found = expressions(op)
        if not isinstance(found, OpExpressions) or len(found.inputs) > 2:
            continue
        names = dict(zip(found.inputs, ("x", "y")))
        body = ["double x = Z[e];"] + ["double y = Y[e];"] * (len(found.inputs) == 2)
        body.append(f"double out = {render(found.forward, 'c', names)};")
        if found.refuse is not False:
            body.append(f"bad |= {render(found.refuse, 'c', names)};")
            refusals.append(f"    case {code}: return {render(found.refuse, 'c', names)};")
        body += ["A[e] = out;", f"D[e] = {render(found.derivatives[0], 'c', names)};"]
        loops += [f"    case {code}:  /* {op} */", "        for (int e = 0; e < count; e++) {"]
        loops += ["            " + line for line in body] + ["        }", "        break;"]
    return "\n".join(
        [
            "/* A layer's activation over a block: A = op(Z[, Y]), D its slope; true if an",
            "   element is refused (al_refuses then says which). */",
            "static int al_activate(int code, int count, const double *restrict Z,",
            "                       const double *restrict Y, double *restrict A,",
            "                       double *restrict D) {",
            "    int bad = 0;",
            "    (void)Y;",
            "    switch (code) {",
            *loops,
            "    }",
            "    return bad;",
            "}",
            "",
            "static int al_refuses(int code, double x, double y, double out) {",
            "    (void)x; (void)y; (void)out;",
            "    switch (code) {",
            *refusals,
            "    }",
            "    return 0;",
            "}",
            "",
        ]
    )


def _case(op: str, code: int) -> list[str]:
    found = expressions(op)
    if isinstance(found, FoldExpressions):
        body = _fold_case(found)
    else:
        body = [f"double {name} = V[flat[s + {k}]];" for k, name in enumerate(found.inputs)]
        body.append(f"double out = {render(found.forward, 'c')};")
        if found.refuse is not False:
            body.append(f"if ({render(found.refuse, 'c')}) found = al_first(found, original[i]);")
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
        "#include <float.h>\n#include <math.h>\n#include <string.h>\n"
        + _FSUM
        + _activation_source(ops)
        + _PLAN % cases
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
_INT_P, _DOUBLE_P = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_double)


class _View(ctypes.Structure):
    """``al_view``: where a grid's numbers are (see the C source)."""

    _fields_ = [("base", ctypes.c_int), ("stride", ctypes.c_int), ("nodes", _INT_P)]


class _LayerStruct(ctypes.Structure):
    """``al_layer``: one layer of the plan (see the C source)."""

    _fields_ = [
        *[(name, ctypes.c_int) for name in ("rows", "neurons", "inputs", "act")],
        *[(name, _View) for name in ("a", "w", "b", "y")],
        *[(name, ctypes.c_int) for name in ("z", "out", "grad_a", "grad_w")],
        ("row_order", _INT_P),
        ("neuron_order", _INT_P),
        *[(name, _DOUBLE_P) for name in ("wt", "bp", "wp", "gwp", "ap", "gap", "gb", "slopes",
                                         "delta", "y_copy")],
    ]  # fmt: skip


class _PlanStruct(ctypes.Structure):
    """``al_plan``: a program's plan and its arrays (see the C source)."""

    _fields_ = [
        *[(name, ctypes.c_int) for name in ("n", "loss", "n_params", "n_inputs", "count")],
        *[(name, _INT_P) for name in ("schedule", "codes", "starts", "flat", "skippable",
                                      "original")],
        *[(name, _DOUBLE_P) for name in ("V", "L", "G", "params")],
        ("n_layers", ctypes.c_int),
        ("layers", ctypes.POINTER(_LayerStruct)),
        ("n_outputs", ctypes.c_int),
        ("output_at", _INT_P),
        ("outputs", _DOUBLE_P),
    ]  # fmt: skip


def build_interpreter(ops: tuple[str, ...] | None = None) -> ctypes.CDLL:
    """Compile the interpreter for the table ``ops`` (by default ``c_ops()``) if it is not
    in the cache yet, and load it (once per table)."""
    ops = c_ops() if ops is None else ops
    if ops in _library:
        return _library[ops]
    library = _built(interpreter_source(ops), "replay")
    library.al_step.argtypes = [ctypes.POINTER(_PlanStruct)]
    library.al_step.restype = ctypes.c_int
    library.al_gather.argtypes = [ctypes.c_int, _INT_P, ctypes.c_int, _DOUBLE_P, _DOUBLE_P]
    library.al_gather.restype = None
    library.al_binary_correct.argtypes = [_DOUBLE_P, _DOUBLE_P, ctypes.c_int, ctypes.c_double]
    library.al_binary_correct.restype = ctypes.c_int
    _library[ops] = library
    return library


def _built(source: str, stem: str) -> ctypes.CDLL:
    """The library compiled from ``source``, from the cache (``{stem}-{hash}.so``) or built
    into it now."""
    key = source + " ".join(FLAGS) + sys.platform + _machine()
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    target = cache_directory() / f"{stem}-{digest}.so"
    if not target.exists():
        _compile(source, target)
    return ctypes.CDLL(str(target))


def _machine() -> str:
    """What the compiled code is built for (``-march=native``): the processor and its
    instruction sets, so that a cache shared between machines never runs a foreign build."""
    try:
        with open("/proc/cpuinfo") as info:
            wanted = ("model name", "flags")
            lines = {line.split(":")[0].strip(): line for line in info if ":" in line}
            return platform.machine() + "".join(lines.get(name, "") for name in wanted)
    except OSError:
        return platform.machine() + platform.processor()


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
        for flags in (FLAGS, [flag for flag in FLAGS if flag != "-march=native"]):
            # a compiler that does not know -march=native still builds, for any processor
            done = subprocess.run(
                [compiler, *flags, "-o", str(built), str(c_file), "-lm"],
                capture_output=True,
                text=True,
            )
            if done.returncode == 0:
                break
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["no message"])[0]
            raise BackendUnavailableError(
                f"the c backend failed to compile with {compiler}: {first}"
            )
        os.replace(c_file, target.with_suffix(".c"))  # the source, beside it, to read
        os.replace(built, target)  # atomic: a concurrent build sees all or nothing


def _ints(values: list[int]) -> ctypes.Array:
    return (ctypes.c_int * max(len(values), 1))(*values)


def _doubles(count: int) -> ctypes.Array:
    return (ctypes.c_double * max(count, 1))()


def _numbers(array: ctypes.Array, start: int = 0, stop: int | None = None) -> memoryview:
    """A ctypes array of doubles as a memoryview of floats (format "d"), no copy."""
    return memoryview(array).cast("B").cast("d")[start:stop]


class CReplay(Replay):
    """Replay with the compiled C interpreter and the program's layers as loops (see the
    module docstring).

    ``run(inputs, params)`` takes and gives lists, as every backend; ``buffers`` and
    ``step()`` are the way without lists: write the inputs (and parameters) into the
    buffers, call ``step()`` (one call into C), read the gradients from the buffer.

    >>> from autograd_lite import Value
    >>> from autograd_lite.program import trace
    >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
    >>> step = CReplay(trace((w * x).tanh(), params=[w], inputs=[x]))
    >>> step.buffers.inputs[0] = 3.0
    >>> round(step.step(), 6), [round(g, 6) for g in step.buffers.gradients]
    (0.905148, [0.54212])
    """

    name = "c"
    _checks_decisions = True  # step() checks them: run() and fit's flat steps alike

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        program = self.program  # with decisions, its outputs end with the nodes they read
        ops = c_ops()
        self._library = build_interpreter(ops)
        code = op_codes(program, ops)
        self.plan = plan(program)
        order = _numbering(program, self.plan)  # new index -> program index
        n = len(program)
        new = array("i", bytes(4 * n))  # program index -> the replay's (4 bytes a node)
        for k, i in enumerate(order):
            new[i] = k
        self._new = new
        on_their_own = {i for i in self.plan.schedule if i >= 0}
        codes, starts, flat = [-1] * n, [0] * (n + 1), []
        for k, i in enumerate(order):
            starts[k] = len(flat)
            if i in on_their_own:
                codes[k] = code[program.ops[i]]
                flat.extend(new[j] for j in program.args[i])
        starts[n] = len(flat)
        slopes = {op: expressions(op).finite_slopes for op in set(program.ops) if op}
        skippable = [int(bool(program.ops[i]) and slopes[program.ops[i]]) for i in order]
        schedule = [new[i] if i >= 0 else i for i in self.plan.schedule]
        self._values = (ctypes.c_double * max(n, 1))(*[program.values[i] for i in order])
        self._grads = _doubles(n)
        self._outputs = _doubles(len(program.outputs))
        needs = needs_gradient(program)
        layers = [self._layer(layer, code, needs) for layer in self.plan.layers]
        p, i = len(program.parameters), len(program.inputs)
        self._plan = _PlanStruct(
            n=n, loss=new[program.loss], n_params=p, n_inputs=i, count=len(schedule),
            schedule=self._array(_ints(schedule)), codes=self._array(_ints(codes)),
            starts=self._array(_ints(starts)), flat=self._array(_ints(flat)),
            skippable=self._array(_ints(skippable)), original=self._array(_ints(order)),
            V=self._values, L=self._array(_doubles(len(flat))), G=self._grads, params=self._values,
            n_layers=len(layers),
            layers=self._array((_LayerStruct * max(len(layers), 1))(*layers)),
            n_outputs=len(program.outputs),
            output_at=self._array(_ints([new[o] for o in program.outputs])),
            outputs=self._outputs,
        )  # fmt: skip
        self._call, self._plan_pointer = self._library.al_step, ctypes.byref(self._plan)
        self._loss = new[program.loss]
        self.buffers = Buffers(
            inputs=_numbers(self._values, p, p + i),
            params=_numbers(self._values, 0, p),
            gradients=_numbers(self._grads, 0, p).toreadonly(),
            outputs=_numbers(self._outputs, 0, self._reported).toreadonly(),
        )

    # The parameters live in the buffer: what run(params=...) and .params set, step() reads.
    @property  # type: ignore[override]
    def _params(self) -> list[float]:
        return self.buffers.params.tolist()

    @_params.setter
    def _params(self, values: list[float]) -> None:
        if "buffers" in self.__dict__:  # (before, the buffer holds the traced values)
            self.buffers.params[:] = array("d", values)

    def step(self) -> float:
        """One forward and backward pass with the numbers in ``buffers``, in one call into C:
        returns the loss and leaves d(loss)/d(parameter) in ``buffers.gradients`` and the
        outputs' values in ``buffers.outputs``. An input or parameter that is not a finite
        number is a ``ValueError`` naming it; an op refusing its inputs, ``ReplayError``."""
        failed = self._call(self._plan_pointer)
        guards = self._guards
        if failed != -1:
            error = self._failure(failed)
            if guards is not None and isinstance(error, ReplayError):  # the old branch's op?
                explained = guards.explain(error, self.buffers.inputs.tolist(), self._params)
                if explained is not error:
                    raise explained from error
            raise error
        if guards is not None:  # the decisions, on the nodes they read (outputs past ours)
            guards.check(self._outputs[self._reported : len(self.program.outputs)])
        return self._values[self._loss]

    def _run(self, inputs: list[float], params: list[float]) -> Result:
        # ``params`` were read from the buffer (``_params``): only the inputs go in
        self.buffers.inputs[:] = array("d", inputs)
        loss = self.step()
        return Result(loss, self.buffers.gradients.tolist(), self.buffers.outputs.tolist())

    def _failure(self, failed: int) -> Exception:
        program, values, new = self.program, self._values, self._new
        if failed >= 0:
            return refused(program, failed, {j: values[new[j]] for j in program.args[failed]})
        k, count = -2 - failed, len(program.parameters)
        role, index = ("params", k) if k < count else ("inputs", k - count)
        try:
            check_number("step", f"{role}[{index}]", values[k])
        except (TypeError, ValueError) as error:
            return error
        return AssertionError(f"step: the C replay returned {failed}")  # pragma: no cover

    def _share_params(self, shared: ctypes.Array) -> None:
        """Read the parameters from ``shared`` (a ctypes array of doubles, one per
        parameter) at each step instead of the replay's own buffer: several replays of one
        model (fit's batch sizes) then share one set of weights, which training updates in
        place."""
        self._keep.append(shared)
        self._plan.params = ctypes.cast(shared, _DOUBLE_P)
        self.buffers = self.buffers._replace(params=_numbers(shared))

    @property
    def gradient_array(self) -> ctypes.Array:
        """d(loss)/d(node) after ``step()``, as the C array: the parameters' first."""
        return self._grads

    def binary_correct(self, positive: ctypes.Array, threshold: float) -> int:
        """How many outputs of the last ``step()`` are above ``threshold`` exactly where
        ``positive`` (one number per output, 1 for the positive class, else 0) is not 0: the
        count of ``nn.metrics.binary_accuracy``, in C (fit's accuracy of a step). A NaN
        output is not above.

        >>> from autograd_lite import Value
        >>> from autograd_lite.program import trace
        >>> w, x, y = Value(1.0, label="w"), Value(2.0), Value(-3.0)
        >>> a, b = w * x, w * y
        >>> step = CReplay(trace(a + b, params=[w], inputs=[x, y], outputs=[a, b]))
        >>> step.step()
        -1.0
        >>> step.binary_correct(weights_array([1.0, 1.0]), 0.0)   # 2 > 0 right, -3 > 0 wrong
        1
        """
        if len(positive) != self._reported:
            raise ValueError(
                f"binary_correct: needs one target sign per output ({self._reported}); "
                f"got {len(positive)}"
            )
        return self._library.al_binary_correct(self._outputs, positive, self._reported, threshold)

    def _feed_rows(
        self, rows: ctypes.Array, count: int, width: int, data: ctypes.Array, first: int
    ) -> None:
        """Copy rows ``rows[:count]`` of ``data`` (``width`` numbers each) into the inputs,
        from input ``first`` on (fit's batches, in C)."""
        at = ctypes.addressof(self._values) + ctypes.sizeof(ctypes.c_double) * (
            len(self.program.parameters) + first
        )
        self._library.al_gather(count, rows, width, data, ctypes.cast(at, _DOUBLE_P))

    def _array(self, array: ctypes.Array) -> ctypes.Array:
        self.__dict__.setdefault("_keep", []).append(array)
        return array

    def _layer(self, layer: Layer, code: dict[str, int], needs: list[bool]) -> _LayerStruct:
        """The C record of one layer, its views in the replay's numbering."""
        new = self._new
        rows, neurons, inputs = layer.shape

        def view(grid: Sequence[Sequence[int]]) -> _View:
            found = [[new[j] for j in line] for line in grid]
            base = found[0][0]
            stride = found[1][0] - base if len(found) > 1 else len(found[0])
            if all(j == base + r * stride + c for r, line in enumerate(found)
                   for c, j in enumerate(line)):  # fmt: skip
                return _View(base, stride, None)  # a block: read in place
            return _View(0, len(found[0]), self._array(_ints([j for line in found for j in line])))

        act = layer.activation
        y = _View(0, 0, None)
        if act and len(self.program.args[layer.outputs[0][0]]) == 2:
            # the activation's second input (leaky_relu's slope), gathered per z
            y = view([[self.program.args[o][1] for o in row] for row in layer.outputs])
            y = _View(0, neurons, self._array(_ints([y.base + r * y.stride + c for r in range(rows)
                                                     for c in range(neurons)]))
                      if not y.nodes else y.nodes)  # fmt: skip
        grad_a = any(needs[j] for row in layer.activations for j in row)
        grad_w = any(needs[j] for j in layer.biases) or any(
            needs[j] for row in layer.weights for j in row
        )
        lanes = 8  # AL_LANES of the C source
        padded_n, padded_m = -(-inputs // lanes) * lanes, -(-neurons // lanes) * lanes
        a = view(layer.activations)
        sizes = {
            "wt": inputs * padded_m, "bp": padded_m,
            "wp": neurons * padded_n * grad_a, "gwp": neurons * padded_n * grad_w,
            "ap": rows * padded_n * (grad_w or a.nodes is not None),
            "gap": rows * padded_n * grad_a, "gb": neurons * grad_w,
            "slopes": rows * neurons * bool(act), "delta": rows * neurons * bool(act),
            "y_copy": rows * neurons * bool(y.nodes),
        }  # fmt: skip
        blocks = {name: self._array(_doubles(size)) for name, size in sizes.items() if size}
        return _LayerStruct(
            rows=rows, neurons=neurons, inputs=inputs, act=code[act] if act else -1,
            a=a, w=view(layer.weights), b=view([[j] for j in layer.biases]), y=y,
            z=new[layer.z[0][0]], out=new[layer.outputs[0][0]],
            grad_a=int(grad_a), grad_w=int(grad_w),
            row_order=self._array(_ints(list(layer.row_order))),
            neuron_order=self._array(_ints(list(layer.neuron_order))),
            **blocks,
        )  # fmt: skip


def weights_array(values: Sequence[float]) -> ctypes.Array:
    """A C array of doubles holding ``values`` (fit's flat buffers)."""
    return (ctypes.c_double * max(len(values), 1))(*values)


def rows_array(rows: Sequence[int]) -> ctypes.Array:
    """A C array of ints holding ``rows`` (a batch's sample indices)."""
    return _ints(list(rows))


def _numbering(program: Program, found: Plan) -> list[int]:
    """The replay's order of the nodes (new index -> program index): the parameters, then
    the inputs (so that both are blocks: the buffers), then each layer's z block and its
    activations' block, row by row, then every other node in the program's order."""
    order = [*program.parameters, *program.inputs]
    for entry in found.schedule:
        if entry < 0:
            layer = found.layers[-1 - entry]
            order += [i for row in layer.z for i in row]
            if layer.activation:
                order += [i for row in layer.outputs for i in row]
    placed = set(order)
    order += [i for i in range(len(program)) if i not in placed]
    return order


# --- an optimizer's rule on a flat buffer of weights ------------------------------------------


def update_source(
    rule: Callable[..., tuple], running: Sequence[str], settings: Sequence[str]
) -> str:
    """C source of ``al_update``: an optimizer's ``rule`` (``nn.optim``: one parameter's
    update, ``rule(w, g, *running, *settings)`` -> (new w, new running values...)) read off
    as expressions, applied to every parameter of a flat buffer. As ``Optimizer.step``: it
    checks every gradient first, keeps the weights and running values, updates, and puts
    everything back if a new weight is not finite.

    >>> from autograd_lite.nn import SGD
    >>> source = update_source(SGD.rule, SGD.running, SGD.settings_names)
    >>> [line.strip() for line in source.splitlines() if "double out0" in line]
    ['double out0 = (w - (lr * ((momentum * velocity) + (g + (weight_decay * w)))));']
    """
    names = ("w", "g", *running, *settings)
    symbols = [Symbol(name) for name in names]
    paths = explore(lambda: rule(*symbols))
    count = 1 + len(running)
    results = []
    for k in range(count):
        found = assemble(paths, lambda o, k=k: HOLE if o.error else _rule_expr(o.value, k, count))
        if found is HOLE:
            raise ValueError(f"update_source: the rule {rule.__qualname__} raises for every input")
        results.append(found)
    local = {name: name for name in names}
    lines = [
        "/* autograd_lite: an optimizer's rule on a flat buffer, generated from the rule */",
        "#include <math.h>",
        "#include <string.h>",
        "",
        "/* For the n parameters k at W[at[k]] (gradient G[at[k]]; running value j at",
        "   S[j * n + k]): -1, or -2 - k if gradient k is not finite (nothing changed), or k",
        "   if new weight k is not finite (everything put back; *became: what it became). kept:",
        "   the weights before. */",
        "typedef struct {",
        "    int n;",
        "    const int *at;",
        "    double *W, *G, *S, *settings, *kept, *saved, *became;",
        "} al_update_call;",
        "",
        "static int al_apply(int n, const int *at, double *W, const double *G, double *S,",
        "                    const double *settings, double *kept, double *saved,",
        "                    double *became) {",
        "    for (int k = 0; k < n; k++) kept[k] = W[at[k]];",
        "    for (int k = 0; k < n; k++)",
        "        if (!isfinite(G[at[k]])) return -2 - k;",
        f"    memcpy(saved, S, sizeof(double) * {len(running)} * n);",
        *[f"    double {name} = settings[{k}];" for k, name in enumerate(settings)],
        "    for (int k = 0; k < n; k++) {",
        "        double w = W[at[k]], g = G[at[k]];",
        *[f"        double {name} = S[{j} * n + k];" for j, name in enumerate(running)],
        *[
            f"        double out{k} = {render(found, 'c', local)};"
            for k, found in enumerate(results)
        ],  # fmt: skip
        "        W[at[k]] = out0;",
        *[f"        S[{j} * n + k] = out{j + 1};" for j in range(len(running))],
        "    }",
        "    for (int k = 0; k < n; k++) {",
        "        if (isfinite(W[at[k]])) continue;",
        "        *became = W[at[k]];  /* for the message */",
        "        for (int j = 0; j < n; j++) W[at[j]] = kept[j];",
        f"        memcpy(S, saved, sizeof(double) * {len(running)} * n);",
        "        return k;",
        "    }",
        "    return -1;",
        "}",
        "",
        "/* One call from Python: its arguments in a record made once. */",
        "int al_update(const al_update_call *c) {",
        "    return al_apply(c->n, c->at, c->W, c->G, c->S, c->settings, c->kept, c->saved,",
        "                    c->became);",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _rule_expr(value: object, k: int, count: int) -> object:
    if not isinstance(value, tuple) or len(value) != count:
        raise ValueError(
            f"update_source: a rule returns (new w, each running value): {count} numbers"
        )
    part = value[k]
    if isinstance(part, Symbol):
        return part.expr
    if isinstance(part, (int, float)) and not isinstance(part, bool):
        return float(part)
    raise ValueError(f"update_source: a rule returns numbers, got {type(part).__name__}")


_updates: dict[str, ctypes.CDLL] = {}  # per rule's source, loaded once


class _UpdateCall(ctypes.Structure):
    """``al_update_call``: the arguments of one update (see ``update_source``)."""

    _fields_ = [("n", ctypes.c_int), ("at", _INT_P),
                *[(name, _DOUBLE_P) for name in ("W", "G", "S", "settings", "kept", "saved",
                                                 "became")]]  # fmt: skip


def build_update(
    rule: Callable[..., tuple], running: Sequence[str], settings: Sequence[str]
) -> ctypes.CDLL:
    """``update_source`` compiled (once, cached as ``update-<hash>.so``) and loaded."""
    source = update_source(rule, running, settings)
    if source not in _updates:
        library = _built(source, "update")
        library.al_update.argtypes = [ctypes.POINTER(_UpdateCall)]
        library.al_update.restype = ctypes.c_int
        _updates[source] = library
    return _updates[source]


class FlatUpdate:
    """An optimizer's ``rule`` compiled (``build_update``) and applied to the weights of a
    flat buffer: ``fit(backend="c")``'s update. ``positions[k]``: where the optimizer's k-th
    parameter is in ``weights``; the running values start as the optimizer holds them."""

    def __init__(self, optimizer: object, positions: Sequence[int], weights: ctypes.Array) -> None:
        kind = type(optimizer)
        self._library = build_update(kind.rule, kind.running, kind.settings_names)  # type: ignore[attr-defined]
        self.running: tuple[str, ...] = kind.running  # type: ignore[attr-defined]
        count = len(positions)
        self.count, self.positions = count, list(positions)
        self._at, self._weights = _ints(self.positions), weights
        values = [v for name in self.running for v in getattr(optimizer, name)]
        self._state = (ctypes.c_double * max(len(values), 1))(*values)
        self._kept = (ctypes.c_double * max(count, 1))(*[weights[k] for k in positions])
        self._saved = _doubles(len(values))
        self._became = ctypes.c_double()
        self._settings = _doubles(len(kind.settings_names))  # type: ignore[attr-defined]
        self._record = _UpdateCall(
            count, self._at, ctypes.cast(weights, _DOUBLE_P), None, self._state,
            self._settings, self._kept, self._saved, ctypes.pointer(self._became),
        )  # fmt: skip
        self._gradients: ctypes.Array | None = None
        self._call, self._pointer = self._library.al_update, ctypes.byref(self._record)

    def __call__(self, gradients: ctypes.Array, settings: Sequence[float]) -> int:
        """One update from ``gradients`` (indexed as ``weights``) with this step's
        ``settings`` (``Optimizer.settings``): -1; -2 - k when the k-th parameter's
        gradient is not finite; k when its new weight would not be (``became``): then
        nothing has changed."""
        if gradients is not self._gradients:  # another replay (another batch size)
            self._record.G = ctypes.cast(gradients, _DOUBLE_P)
            self._gradients = gradients
        self._settings[:] = settings
        return self._call(self._pointer)

    @property
    def became(self) -> float:
        """What the weight that stopped the last update would have become."""
        return self._became.value

    def put_back(self) -> None:
        """The weights as they were before the last update (or at the start)."""
        for k, at in enumerate(self.positions):
            self._weights[at] = self._kept[k]

    def running_values(self) -> list[list[float]]:
        """The running values now, one list per name of ``running``."""
        n = self.count
        return [list(self._state[j * n : (j + 1) * n]) for j in range(len(self.running))]

    def set_running_values(self, values: Sequence[Sequence[float]]) -> None:
        """Running values given back (an optimizer's, after a watcher may have changed them)."""
        for j, part in enumerate(values):
            self._state[j * self.count : (j + 1) * self.count] = list(part)
