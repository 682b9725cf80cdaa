"""Small things several test modules need: finite differences and a tiny labelled graph."""

from __future__ import annotations

from autograd_lite import Value, no_grad


def numeric_gradient(f, leaf: Value, eps: float = 1e-6) -> float:
    """Central finite difference of f() in leaf.data (f rebuilds the graph from the leaves)."""
    original = leaf.data
    with no_grad():
        leaf.data = original + eps
        up = f().data
        leaf.data = original - eps
        down = f().data
    leaf.data = original
    return (up - down) / (2 * eps)


def neuron_graph() -> dict[str, Value]:
    """E = tanh(w x + b)^2 + x: x reaches E along two paths, so its grad grows twice."""
    x, w, b = Value(0.5, "x"), Value(-1.5, "w"), Value(0.25, "b")
    z = w * x + b
    z.label = "z"
    a = z.tanh()
    a.label = "a"
    error = a * a + x
    error.label = "E"
    return {"x": x, "w": w, "b": b, "z": z, "a": a, "E": error}


EXTRAS = {"torch": "torch", "sklearn": "datasets", "numpy": "numpy"}  # module -> pyproject extra


def needs_extra(module: str):
    """The optional module, or a skip whose one-line reason says what to install."""
    import pytest

    extra = EXTRAS[module]
    return pytest.importorskip(module, reason=f'needs the {extra} extra: pip install ".[{extra}]"')


# Debian's chromium, headless, as the browser tests drive it (Playwright needs its path: it
# may not download a browser of its own here)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
