"""Words for the chain rule: each backward step told in the notation of the notes."""

from __future__ import annotations

from autograd_lite.engine import BackwardStep, Value


def name_of(node: Value) -> str:
    """A node's label, or its operation and value when it has none."""
    return node.label or (f"{node.op}" if node.op else f"{node.data:.4g}")


def describe_step(step: BackwardStep) -> str:
    """One chain-rule application as a line of text.

    >>> from autograd_lite import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x; y.label = "y"
    >>> print(next(y.backward_steps()))
    ∂E/∂x += ∂E/∂y × ∂y/∂x = 1 × 3 = 3  (x.grad = 3)
    """
    node, input_ = name_of(step.node), name_of(step.input)
    return (
        f"∂E/∂{input_} += ∂E/∂{node} × ∂{node}/∂{input_} = "
        f"{step.upstream:.4g} × {step.local_grad:.4g} = {step.contribution:.4g}"
        f"  ({input_}.grad = {step.input_grad:.4g})"
    )
