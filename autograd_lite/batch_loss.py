"""A model's loss on a batch of samples, the loss chosen by name; and the checks of the data.

``LOSSES`` maps each name ``fit``, ``evaluate`` and the command line accept to its loss
function and its accuracy function. ``forward_pass`` runs the model on every sample of a
batch and measures that loss, recording the graph ``backward()`` walks.

>>> from autograd_lite.nn import MLP
>>> model = MLP(1, [1], seed=0)
>>> model.layers[0].neurons[0].w[0].data = 2.0
>>> total, outputs = forward_pass(model, [[1.0], [2.0]], [2.0, 3.0], loss="mse")
>>> total.data                                   # errors 0 and 1: (0² + 1²) / 2
0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

from autograd_lite.checks import check_instance, check_number
from autograd_lite.engine import Value
from autograd_lite.modes import no_grad
from autograd_lite.nn import losses, metrics
from autograd_lite.nn.model import MLP

__all__ = ["LOSSES", "check_data", "check_samples", "forward_pass", "loss_functions"]

LossFunction = Callable[..., Value]
AccuracyFunction = Callable[..., float]

# loss name -> (loss function, accuracy function; None for regression, which has no classes)
LOSSES: dict[str, tuple[LossFunction, AccuracyFunction | None]] = {
    "hinge": (losses.hinge_loss, metrics.binary_accuracy),
    "bce_with_logits": (losses.binary_cross_entropy_with_logits, metrics.binary_accuracy),
    "bce": (losses.binary_cross_entropy, partial(metrics.binary_accuracy, threshold=0.5)),
    "softmax_cross_entropy": (losses.softmax_cross_entropy, metrics.class_accuracy),
    "mse": (losses.mean_squared_error, None),
    "half_sum_squared_error": (losses.half_sum_squared_error, None),
}


def loss_functions(where: str, loss: str) -> tuple[LossFunction, AccuracyFunction | None]:
    """The loss and accuracy functions of the loss named ``loss``; a clear error otherwise.

    >>> loss_functions("fit", "mse")[1] is None
    True
    >>> loss_functions("fit", "l1")
    Traceback (most recent call last):
    ...
    ValueError: fit: unknown loss 'l1'; choose one of hinge, bce_with_logits, bce, softmax_cross_entropy, mse, half_sum_squared_error
    """  # noqa: E501 (the doctest shows the whole message)
    check_instance(where, "loss", loss, str, "the name of a loss (a str)")
    if loss not in LOSSES:
        raise ValueError(f"{where}: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[loss]


def check_data(where: str, inputs: Sequence, targets: Sequence) -> None:
    """As many inputs as targets, and at least one of each.

    >>> check_data("fit", [[0.0]], [1.0, 2.0])
    Traceback (most recent call last):
    ...
    ValueError: fit: needs as many inputs as targets (at least one); got 1 inputs and 2 targets
    """
    if len(inputs) != len(targets) or not inputs:
        raise ValueError(
            f"{where}: needs as many inputs as targets (at least one); "
            f"got {len(inputs)} inputs and {len(targets)} targets"
        )


def check_samples(model: MLP, inputs: Sequence, targets: Sequence, loss: str) -> None:
    """Refuse bad data before any weight changes, without running the model: every input
    as the model reads it, every target as the loss reads it (against stand-in outputs).
    The error names the sample (or target) and its index.

    >>> from autograd_lite.nn import MLP
    >>> check_samples(MLP(2, [1]), [[0.0, 1.0], [float("nan"), 0.0]], [1, -1], "hinge")
    Traceback (most recent call last):
    ...
    ValueError: sample 1 ([nan, 0.0]): every input must be finite, got nan
    """
    for index, x in enumerate(inputs):
        try:
            model.check_input(x)
        except (TypeError, ValueError) as error:
            raise type(error)(f"sample {index} ({x!r}): {error}") from None
        for v in x:
            if not math.isfinite(v.data if isinstance(v, Value) else v):
                raise ValueError(f"sample {index} ({x!r}): every input must be finite, got {v!r}")
    width = model.nouts[-1]
    stand_in = 0.0 if width == 1 else [0.0] * width
    loss_function, _ = loss_functions("fit", loss)
    with no_grad():
        try:
            loss_function([stand_in] * len(inputs), list(targets))
        except (TypeError, ValueError) as error:
            # name the first target the loss refuses on its own (checked only on failure:
            # one call per target would cost a loss per sample on every fit)
            for index, target in enumerate(targets):
                try:
                    loss_function([stand_in], [target])
                except (TypeError, ValueError) as single:
                    raise type(single)(f"target {index} ({target!r}): {single}") from None
            raise error from None


def forward_pass(
    model: MLP,
    inputs: Sequence[Sequence[float]],
    targets: Sequence,
    *,
    loss: str = "hinge",
    l2: float = 0.0,
) -> tuple[Value, list]:
    """Run ``model`` on every input and measure the loss: returns ``(loss, outputs)``.

    The loss includes ``l2 * sum(w^2)`` when ``l2`` > 0. The graph is recorded (unless
    inside ``no_grad()``), so ``loss.backward()`` then gives every weight its gradient.

    >>> from autograd_lite.nn import MLP
    >>> model = MLP(1, [1], seed=0)
    >>> model.layers[0].neurons[0].w[0].data = 2.0
    >>> total, outputs = forward_pass(model, [[1.0], [2.0]], [2.0, 3.0], loss="mse")
    >>> total.data, [y.data for y in outputs]      # errors 0 and 1
    (0.5, [2.0, 4.0])
    """
    loss_function, _ = loss_functions("forward_pass", loss)
    check_data("forward_pass", inputs, targets)
    l2 = check_number("forward_pass", "l2", l2, minimum=0.0)
    outputs = [model(x) for x in inputs]
    total = loss_function(outputs, list(targets))
    if l2 > 0.0:
        total = total + losses.l2_penalty(model.parameters(), l2)
    return total, outputs
