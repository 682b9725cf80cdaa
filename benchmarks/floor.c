/* The floor of bench_width.py: one training step of an MLP written by hand in C.

   Per-layer loops over arrays, no interpreter, no program: what a person would write in C
   for this one network -- relu hidden layers, a linear output layer, the hinge loss
   (labels -1/+1, one output) or the mean squared error, plus l2 * sum(w^2), then
   w = w - lr * dE/dw. It does the engine's float operations in the engine's order (each z
   is b + w1*a1 + w2*a2 + ... left to right, every gradient adds its contributions as the
   engine's backward pass does, sums of many terms are rounded once as math.fsum), so its
   weights are the engine's: bench_width.py checks that before it times anything.

   The loops are the natural ones, written so that the compiler can run the innermost loop
   several lanes at a time (the weights are transposed for the forward pass, so that the
   innermost loop runs across neurons); it is compiled with the C replay's flags
   (-O3 -march=native -ffp-contract=off). Parameters are in the model's order: for each
   layer, for each neuron, its weights then its bias. */

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* math.fsum, as the replay's: Shewchuk's partials, rounded once, half to even. */
static double plain_sum(const double *x, int n) {
    double total = 0.0;
    for (int j = 0; j < n; j++) total += x[j];
    return total;
}

static double fsum_exact(const double *x, int n) {
    double p[128];
    int m = 0;
    for (int k = 0; k < n; k++) {
        double v = x[k];
        if (!isfinite(v) || m >= 127) return plain_sum(x, n);
        int i = 0;
        for (int j = 0; j < m; j++) {
            double y = p[j];
            if (fabs(v) < fabs(y)) { double t = v; v = y; y = t; }
            double hi = v + y;
            if (isinf(hi)) return plain_sum(x, n);
            double lo = y - (hi - v);
            if (lo != 0.0) p[i++] = lo;
            v = hi;
        }
        m = i;
        if (v != 0.0) p[m++] = v;
    }
    double hi = 0.0;
    if (m > 0) {
        double lo = 0.0;
        hi = p[--m];
        while (m > 0) {
            double v = hi, y = p[--m];
            hi = v + y;
            lo = y - (hi - v);
            if (lo != 0.0) break;
        }
        if (m > 0 && ((lo < 0.0 && p[m - 1] < 0.0) || (lo > 0.0 && p[m - 1] > 0.0))) {
            double y = lo * 2.0, v = hi + y;
            if (y == v - hi) hi = v;
        }
    }
    return hi;
}

/* The same, fast where it can be sure: the rounding errors of a running sum added up, the
   result accepted when they cannot change its rounding (the replay's al_fsum). */
static double fsum(const double *x, int n) {
    double s = 0.0, c = 0.0, size = 0.0;
    for (int k = 0; k < n; k++) {
        double t = s + x[k], z = t - s;
        double e = (s - (t - z)) + (x[k] - z);
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
    return fsum_exact(x, n);
}

static double *scratch;
static size_t scratch_size;

static double *take(size_t *used, size_t count) {
    double *p = scratch + *used;
    *used += count;
    return p;
}

/* One step. sizes[0..layers]: inputs, then each layer's neurons (the last: 1 for the hinge
   loss). x: batch x sizes[0]; t: batch x sizes[layers] targets. Returns the loss (before the
   update); params are updated in place, grads holds dE/d(each parameter). */
double floor_step(int layers, const int *sizes, int batch, const double *x, const double *t,
                  int mse, double l2, double lr, double *params, double *grads) {
    size_t need = 0, count = 0;
    for (int l = 0; l < layers; l++) {
        need += (size_t)sizes[l] * sizes[l + 1];          /* transposed weights */
        need += 4 * (size_t)batch * sizes[l + 1];        /* z, a, dE/da, delta */
        count += (size_t)sizes[l + 1] * (sizes[l] + 1);
    }
    need += 2 * (size_t)batch * sizes[layers] + count;   /* loss terms, squares */
    if (need > scratch_size) {
        free(scratch);
        scratch = malloc(sizeof(double) * need);
        scratch_size = need;
    }
    size_t used = 0;
    double *z[64], *a[64], *ga[64], *delta[64], *wt[64];
    const double *input = x;
    size_t at = 0;
    /* forward, layer by layer over the whole batch */
    for (int l = 0; l < layers; l++) {
        int n = sizes[l], m = sizes[l + 1], hidden = l < layers - 1;
        const double *w = params + at;
        wt[l] = take(&used, (size_t)n * m);
        z[l] = take(&used, (size_t)batch * m);
        a[l] = take(&used, (size_t)batch * m);
        ga[l] = take(&used, (size_t)batch * m);
        delta[l] = take(&used, (size_t)batch * m);
        for (int j = 0; j < m; j++)
            for (int i = 0; i < n; i++) wt[l][i * m + j] = w[j * (n + 1) + i];
        for (int s = 0; s < batch; s++) {
            double *zs = z[l] + s * m;
            const double *as = input + s * n;
            for (int j = 0; j < m; j++) zs[j] = w[j * (n + 1) + n];
            for (int i = 0; i < n; i++) {
                double ai = as[i];
                const double *wi = wt[l] + i * m;
                for (int j = 0; j < m; j++) zs[j] += wi[j] * ai;
            }
            for (int j = 0; j < m; j++)
                a[l][s * m + j] = hidden ? (zs[j] <= 0.0 ? 0.0 : zs[j]) : zs[j];
        }
        input = a[l];
        at += (size_t)m * (n + 1);
    }
    /* the loss: the mean of the terms, plus l2 * sum(w^2) */
    int outputs = sizes[layers], terms = batch * outputs;
    const double *out = a[layers - 1];
    double *term = take(&used, terms), *square = take(&used, count);
    for (int k = 0; k < terms; k++) {
        if (mse) {
            double e = t[k] - out[k];
            term[k] = pow(e, 2.0);
        } else {
            double u = 1.0 - out[k] * t[k];
            term[k] = u <= 0.0 ? 0.0 : u;
        }
    }
    double data = fsum(term, terms) / (double)terms, loss = data;
    double g_data = 0.0 + 1.0 * 1.0, g_sum = 0.0 + (1.0 / (double)terms) * g_data;
    memset(grads, 0, sizeof(double) * count);
    if (l2 > 0.0) {  /* the penalty's nodes come last in the graph: first in the backward */
        for (size_t k = 0; k < count; k++) square[k] = params[k] * params[k];
        loss = data + l2 * fsum(square, (int)count);
        double g_squares = 0.0 + 1.0 * (0.0 + l2 * (0.0 + 1.0 * 1.0));
        for (size_t k = 0; k < count; k++) {
            grads[k] += params[k] * g_squares;
            grads[k] += params[k] * g_squares;
        }
    }
    /* dE/d(output): from the loss terms back */
    double *g_out = ga[layers - 1];
    for (int k = 0; k < terms; k++) {
        double g_term = 0.0 + 1.0 * g_sum;
        if (mse) {
            double e = t[k] - out[k];
            double g_e = 0.0 + 2.0 * pow(e, 1.0) * g_term;
            g_out[k] = 0.0 + -1.0 * g_e;
        } else {
            double u = 1.0 - out[k] * t[k];
            double g_u = 0.0 + (u > 0.0 ? 1.0 : 0.0) * g_term;
            double g_m = g_u == 0.0 ? 0.0 : 0.0 + -1.0 * g_u;
            g_out[k] = g_m == 0.0 ? 0.0 : 0.0 + t[k] * g_m;
        }
    }
    /* backward, layer by layer from the top: the samples from the last to the first and, in
       a sample, the neurons from the last to the first, as the engine visits them */
    for (int l = layers - 1; l >= 0; l--) {
        int n = sizes[l], m = sizes[l + 1], hidden = l < layers - 1;
        at -= (size_t)m * (n + 1);
        const double *w = params + at, *below = l > 0 ? a[l - 1] : x;
        double *gw = grads + at, *g_below = l > 0 ? ga[l - 1] : 0;
        for (int k = 0; k < batch * m; k++)
            delta[l][k] = hidden ? 0.0 + (z[l][k] > 0.0 ? 1.0 : 0.0) * ga[l][k] : ga[l][k];
        if (g_below) memset(g_below, 0, sizeof(double) * batch * n);
        for (int s = batch - 1; s >= 0; s--) {
            const double *as = below + s * n;
            double *gs = g_below ? g_below + s * n : 0;
            for (int j = m - 1; j >= 0; j--) {
                double d = delta[l][s * m + j];
                if (d == 0.0) continue;  /* it would add only zeros: the engine skips it */
                const double *wj = w + j * (n + 1);
                double *gwj = gw + j * (n + 1);
                for (int i = 0; i < n; i++) gwj[i] += as[i] * d;
                gwj[n] += d;
                if (gs)
                    for (int i = 0; i < n; i++) gs[i] += wj[i] * d;
            }
        }
    }
    for (size_t k = 0; k < count; k++) params[k] = params[k] - lr * grads[k];
    return loss;
}
