"""autograd_lite: reverse-mode automatic differentiation on scalars, and small neural networks.

>>> from autograd_lite import Value
>>> x = Value(2.0, label="x")
>>> y = x * x + 3 * x
>>> y.backward()
>>> x.grad          # dy/dx = 2x + 3
7.0
"""

from autograd_lite.debugging import AnomalyError, BackwardStep, detect_anomaly
from autograd_lite.engine import Value, topological_order
from autograd_lite.forward_mode import hvp, jvp
from autograd_lite.gradients import GradcheckResult, grad, gradcheck
from autograd_lite.modes import is_grad_enabled, no_grad
from autograd_lite.sums import sum_values, weighted_sum

__all__ = [
    "AnomalyError",
    "BackwardStep",
    "GradcheckResult",
    "Value",
    "detect_anomaly",
    "grad",
    "gradcheck",
    "hvp",
    "is_grad_enabled",
    "jvp",
    "no_grad",
    "sum_values",
    "topological_order",
    "weighted_sum",
]

__version__ = "0.1.0"
