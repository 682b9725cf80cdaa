"""Two ops of our own, outside the package, written as the engine writes its ops: for each,
a forward (``@operation``) and a derivative rule (``@derivative``) -- and nothing else.

This is docs/engine.md's recipe; tests/test_user_ops.py checks that these ops work in
``backward()``, ``grad(create_graph=True)``, ``gradcheck``, every replay and every export.
"""

from __future__ import annotations

from autograd_lite.elementary import exp, log, sqrt
from autograd_lite.engine import Value, derivative, operand, operation, record


@operation("softplus")
def softplus(x: Value | float) -> Value:
    """log(1 + e^x), a smooth relu; written so that e^x never overflows."""
    x = operand(x, "softplus")
    z = x.data
    out = max(z, 0.0) + log(1.0 + exp(-abs(z)))
    return record(out, "softplus", (x,), softplus_rule(z, out))


@derivative("softplus")
def softplus_rule(x: float, out: float) -> tuple:
    """d softplus(x)/dx = σ(x) = 1 - e^-softplus(x)"""
    return (1.0 - exp(-out),)


@operation("hypot")
def hypot(x: Value | float, y: Value | float) -> Value:
    """sqrt(x^2 + y^2), the length of the vector (x, y); it has no slope at (0, 0)."""
    x, y = operand(x, "hypot"), operand(y, "hypot")
    a, b = x.data, y.data
    out = sqrt(a * a + b * b)
    if out == 0.0:
        raise ValueError(f"hypot: has no slope at (0, 0); got {a!r}, {b!r}")
    return record(out, "hypot", (x, y), hypot_rule(a, b, out))


@derivative("hypot")
def hypot_rule(x: float, y: float, out: float) -> tuple:
    """d/dx = x / hypot, d/dy = y / hypot"""
    return (x / out, y / out)
