"""A training loop with a progress bar: forward, loss, backward, optimizer step, repeat.

This module uses ``tqdm`` for the bar, so it lives outside ``autograd_lite.nn`` (which uses
only the standard library). The loop itself is the one every example spells out:

    outputs = [model(x) for x in batch]            # forward pass
    loss = loss_function(outputs, targets)         # how wrong (+ optional L2 penalty)
    optimizer.zero_grad(); loss.backward()         # blame of every weight
    optimizer.step()                               # w = w - lr * dE/dw

>>> from autograd_lite.nn import MLP, data
>>> points, targets = data.xor(labels=(-1, 1))
>>> model = MLP(2, [8, 1], seed=0)
>>> history = fit(model, points, targets, loss="hinge", epochs=50, progress=False)
>>> len(history.loss), history.loss[-1] < history.loss[0]
(50, True)
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from tqdm import tqdm

from autograd_lite.checks import check_count, check_number, check_seed
from autograd_lite.engine import Value
from autograd_lite.modes import no_grad
from autograd_lite.nn import losses, metrics
from autograd_lite.nn.model import MLP
from autograd_lite.nn.optim import SGD, DivergenceError, Optimizer
from autograd_lite.program import BACKENDS, Replay, replay, trace
from autograd_lite.program.backends import ReplayError

__all__ = [
    "DIVERGENCE_FACTOR",
    "LOSSES",
    "DivergenceError",
    "History",
    "collector_paused",
    "decision_map",
    "decision_map_legend",
    "evaluate",
    "fit",
    "forward_pass",
]

# fit() calls training diverged when a step's loss is this many times the first step's (or
# 1, if the first was smaller): a learning rate that is too large makes the loss grow
# geometrically, and a healthy run never comes near (its worst bumps are tens of times).
DIVERGENCE_FACTOR = 1e4

# loss name -> (loss function, accuracy function; None for regression, which has no classes)
LOSSES: dict[str, tuple[Callable[..., Value], Callable[..., float] | None]] = {
    "hinge": (losses.hinge_loss, metrics.binary_accuracy),
    "bce_with_logits": (losses.binary_cross_entropy_with_logits, metrics.binary_accuracy),
    "bce": (losses.binary_cross_entropy, partial(metrics.binary_accuracy, threshold=0.5)),
    "softmax_cross_entropy": (losses.softmax_cross_entropy, metrics.class_accuracy),
    "mse": (losses.mean_squared_error, None),
    "half_sum_squared_error": (losses.half_sum_squared_error, None),
}


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block; restore it after, even on error.

    A training step makes three tracked objects per operation, and the collector would scan
    the growing graph again and again. Our graphs have no reference cycles, so reference
    counting alone frees them: pausing the collector for a step loses nothing.

    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class History:
    """What happened at each optimizer step: the loss (with the L2 penalty), the accuracy on
    that step's batch (None for regression), the learning rate used and how long the step took.

    >>> history = History(loss=[0.9, 0.4], accuracy=[0.5, 1.0], learning_rate=[0.1, 0.1])
    >>> len(history), history.loss[-1]
    (2, 0.4)
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # wall time of each step

    def __len__(self) -> int:
        return len(self.loss)


def _loss_functions(loss: str) -> tuple[Callable[..., Value], Callable[..., float] | None]:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[loss]


def _check_data(where: str, inputs: Sequence, targets: Sequence) -> None:
    if len(inputs) != len(targets) or not inputs:
        raise ValueError(
            f"{where}: needs as many inputs as targets (at least one); "
            f"got {len(inputs)} inputs and {len(targets)} targets"
        )


def _check_samples(model: MLP, inputs: Sequence, targets: Sequence, loss: str) -> None:
    """Refuse bad data before any weight changes, without running the model: every input
    as the model reads it, every target as the loss reads it (against stand-in outputs)."""
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
    loss_function, _ = _loss_functions(loss)
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
    loss_function, _ = _loss_functions(loss)
    _check_data("forward_pass", inputs, targets)
    l2 = check_number("forward_pass", "l2", l2, minimum=0.0)
    outputs = [model(x) for x in inputs]
    total = loss_function(outputs, list(targets))
    if l2 > 0.0:
        total = total + losses.l2_penalty(model.parameters(), l2)
    return total, outputs


def fit(
    model: MLP,
    inputs: Sequence[Sequence[float]],
    targets: Sequence,
    *,
    loss: str = "hinge",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    l2: float = 0.0,
    seed: int | None = 0,
    progress: bool = True,
    description: str = "training",
    backend: str = "engine",
) -> History:
    """Train ``model`` on ``inputs`` / ``targets`` and return the ``History`` of every step.

    * ``loss`` -- a name from ``LOSSES`` ("hinge", "bce_with_logits", "bce",
      "softmax_cross_entropy", "mse", "half_sum_squared_error");
    * ``optimizer`` -- default ``SGD(model.parameters(), lr=0.1)``;
    * ``epochs`` -- passes over the data; ``batch_size`` -- samples per step (default: all
      of them, "full batch"); mini-batches are reshuffled every epoch with ``seed``;
    * ``l2`` -- strength of the L2 penalty added to the loss (0: none);
    * ``progress=False`` runs silently; otherwise a bar shows the loss and the accuracy;
    * ``backend`` -- "engine" builds the graph at every step; "python", "numpy" or "c"
      trace it once per batch size and replay it (``autograd_lite.program``), with the same
      gradients and so the same training (bit for bit for "python").

    Every sample is checked before the first step, so a bad input (a NaN, a wrong length)
    or target raises an error naming the sample and its index before any weight changes.

    Training *diverges* when a step's loss or a gradient is not a finite number, when the
    engine overflows, when an update would make a weight infinite, or when the loss grows
    past ``DIVERGENCE_FACTOR`` times the first step's loss (or 1, if that was smaller). Then
    ``fit`` raises ``DivergenceError`` (a ``ValueError``) with the step's number and loss,
    and the model keeps the weights of the last step whose loss was sound (as it was before
    the update that went wrong). The cure is almost always a smaller learning rate.

    >>> from autograd_lite.nn import MLP
    >>> model = MLP(1, [1], seed=0)
    >>> history = fit(model, [[1.0], [2.0]], [2.0, 4.0], loss="mse", epochs=3, progress=False)
    >>> len(history), history.loss[-1] < history.loss[0]
    (3, True)
    """
    _, accuracy_function = _loss_functions(loss)
    _check_data("fit", inputs, targets)
    check_count("fit", "epochs", epochs)
    batch_size = len(inputs) if batch_size is None else check_count("fit", "batch_size", batch_size)
    l2 = check_number("fit", "l2", l2, minimum=0.0)
    _check_samples(model, inputs, targets, loss)
    if backend not in ("engine", *BACKENDS):
        raise ValueError(
            f"fit: unknown backend {backend!r}; choose one of engine, {', '.join(BACKENDS)}"
        )
    replayed = None if backend == "engine" else _ReplayedLoss(model, loss, l2, backend)
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=0.1)
    rng = random.Random(check_seed("fit", "seed", seed))
    order = list(range(len(inputs)))
    steps_per_epoch = -(-len(inputs) // batch_size)  # rounded up: a smaller last batch
    history = History()
    parameters = model.parameters()
    sound = [p.data for p in parameters]  # the weights of the latest step with a sound loss
    with tqdm(
        total=epochs * steps_per_epoch, desc=description, unit="step", disable=not progress
    ) as bar:
        for _ in range(epochs):
            if batch_size < len(inputs):
                rng.shuffle(order)
            for start in range(0, len(order), batch_size):
                began = time.perf_counter()
                batch = order[start : start + batch_size]
                batch_targets = [targets[i] for i in batch]
                step = len(history)
                batch_inputs = [inputs[i] for i in batch]
                with collector_paused():  # one step: forward, backward, update
                    optimizer.zero_grad()
                    try:
                        if replayed is None:
                            total, outputs = forward_pass(
                                model, batch_inputs, batch_targets, loss=loss, l2=l2
                            )
                            value = total.data
                        else:  # the replay leaves every parameter's gradient too
                            value, outputs = replayed.run(batch_inputs, batch_targets)
                    except OverflowError as error:
                        _roll_back(parameters, sound)
                        raise DivergenceError(
                            f"training diverged at step {step}: the forward pass overflowed "
                            f"({error})",
                            step=step,
                        ) from None
                    value = float(value)  # a replay may give a NumPy float
                    _check_loss(value, step, history, parameters, sound)
                    sound = [p.data for p in parameters]
                    history.learning_rate.append(optimizer.learning_rate())
                    try:
                        if replayed is None:
                            total.backward()
                        optimizer.step()
                    except (OverflowError, DivergenceError) as error:
                        _roll_back(parameters, sound)
                        raise DivergenceError(
                            f"training diverged at step {step} (loss {value:.4g}): {error}",
                            step=step,
                            loss=value,
                        ) from None
                    accuracy = (
                        accuracy_function(outputs, batch_targets) if accuracy_function else None
                    )
                    # Free the graph before the collector is back: it would scan all of it.
                    total = outputs = None
                history.seconds.append(time.perf_counter() - began)
                history.loss.append(value)
                history.accuracy.append(accuracy)
                bar.set_postfix(_postfix(value, accuracy), refresh=False)
                bar.update()
    return history


def _roll_back(parameters: list[Value], values: list[float]) -> None:
    for p, value in zip(parameters, values):
        p.data = value


def _check_loss(
    value: float, step: int, history: History, parameters: list[Value], sound: list[float]
) -> None:
    """Raise ``DivergenceError`` (after putting back the sound weights) when the loss of
    ``step`` is not finite or has exploded (see ``fit``)."""
    if math.isfinite(value):
        limit = DIVERGENCE_FACTOR * max(history.loss[0] if history.loss else value, 1.0)
        if value <= limit:
            return
        why = f"the loss grew from {history.loss[0]:.4g} at step 0 to {value:.4g}"
    else:
        why = f"the loss became {value!r}"
    _roll_back(parameters, sound)
    raise DivergenceError(f"training diverged at step {step}: {why}", step=step, loss=value)


class _ReplayedLoss:
    """The loss and its gradients by replaying a traced program instead of the engine.

    One program per batch size, traced from the very graph ``forward_pass`` builds, with
    the samples and the targets as fed inputs (softmax cross-entropy's targets are class
    numbers, which shape the graph: there one program per batch of targets). ``run`` leaves
    each parameter's gradient in its ``grad``, as ``backward()`` would.
    """

    def __init__(self, model: MLP, loss: str, l2: float, backend: str) -> None:
        self.model, self.loss, self.l2, self.backend = model, loss, l2, backend
        self.params = model.parameters()
        self.fed_targets = loss != "softmax_cross_entropy"
        self.programs: dict[tuple, Replay] = {}

    def run(self, inputs: Sequence[Sequence[float]], targets: Sequence) -> tuple[float, list]:
        """(loss, outputs) of the model on this batch; fills every parameter's ``grad``."""
        key = (len(inputs),) if self.fed_targets else (len(inputs), *targets)
        if key not in self.programs:
            self.programs[key] = self._trace(inputs, targets)
        feed = [float(v) for x in inputs for v in x]
        if self.fed_targets:
            feed += _flat(targets)
        weights = [p.data for p in self.params]
        try:
            result = self.programs[key].run(feed, weights)
        except ReplayError:
            # The graph may hold a number taken from the traced data (softmax's shift by the
            # largest logit) that no longer fits: trace this batch again. Where the engine
            # itself refuses the data, tracing raises its error.
            self.programs[key] = self._trace(inputs, targets)
            result = self.programs[key].run(feed, weights)
        for p, g in zip(self.params, result.gradients):
            p.grad = float(g)
        width = self.model.nouts[-1]
        outputs = [float(v) for v in result.outputs]
        if width > 1:
            outputs = [outputs[k : k + width] for k in range(0, len(outputs), width)]
        return result.loss, outputs

    def _trace(self, inputs: Sequence[Sequence[float]], targets: Sequence) -> Replay:
        samples = [[Value(float(v), f"x{i}") for i, v in enumerate(x)] for x in inputs]
        fed = [Value(t) for t in _flat(targets)] if self.fed_targets else []
        if self.fed_targets:  # the same nesting as the targets, made of the fed leaves
            leaves = iter(fed)
            targets = [[next(leaves) for _ in t] if isinstance(t, (list, tuple)) else next(leaves)
                       for t in targets]  # fmt: skip
        total, outputs = forward_pass(self.model, samples, targets, loss=self.loss, l2=self.l2)
        outputs = [v for output in outputs for v in _as_values(output)]
        program = trace(
            total,
            params=self.params,
            inputs=[v for x in samples for v in x] + fed,
            outputs=outputs,
        )
        return replay(program, self.backend)


def _flat(targets: Sequence) -> list[float]:
    return [float(v) for t in targets for v in (t if isinstance(t, (list, tuple)) else [t])]


def _as_values(output: Value | list[Value]) -> list[Value]:
    return output if isinstance(output, list) else [output]


def _postfix(loss: float, accuracy: float | None) -> dict[str, str]:
    shown = {"loss": f"{loss:.4f}"}
    if accuracy is not None:
        shown["accuracy"] = f"{accuracy:.0%}"
    return shown


def evaluate(
    model: MLP,
    inputs: Sequence[Sequence[float]],
    targets: Sequence,
    *,
    loss: str = "hinge",
    l2: float = 0.0,
) -> tuple[float, float | None]:
    """(loss, accuracy) of ``model`` on the data, without recording a graph.

    The loss includes the L2 penalty when ``l2`` > 0, as during ``fit``; the accuracy is
    None for regression losses.

    >>> from autograd_lite.nn import MLP
    >>> model = MLP(1, [1], output_activation="linear", seed=0)
    >>> model.layers[0].neurons[0].w[0].data = 2.0
    >>> evaluate(model, [[1.0], [2.0]], [2.0, 3.0], loss="mse")     # errors 0 and 1
    (0.5, None)
    """
    _, accuracy_function = _loss_functions(loss)
    with no_grad():
        total, outputs = forward_pass(model, inputs, targets, loss=loss, l2=l2)
    accuracy = accuracy_function(outputs, targets) if accuracy_function else None
    return total.data, accuracy


# what the decision map draws: the predicted class's region, and each sample's own class
REGION_MARKS = ". -:~=+^"
SAMPLE_MARKS = "ox*#@%&$"


def decision_map(
    model: MLP,
    points: Sequence[Sequence[float]],
    targets: Sequence,
    *,
    width: int = 64,
    height: int = 22,
    threshold: float = 0.0,
) -> str:
    """The plane of a 2-input classifier as text, to see the boundary it learned.

    Every character is a spot of the plane showing the class the model predicts there
    (``.`` class 0, blank class 1, ``-`` class 2, ...); each sample is drawn on top with its
    own class (``o`` class 0, ``x`` class 1, ``*`` class 2, ...). With one output, a value
    above ``threshold`` is class 1 and a target above 0 is class 1 (labels -1/+1 or 0/1);
    with several outputs the largest one wins.

    >>> from autograd_lite.nn import MLP
    >>> model = MLP(2, [1], seed=0)
    >>> model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].w[1].data = 1.0, 0.0
    >>> print(decision_map(model, [[-1.0, 0.0], [1.0, 0.0]], [-1, 1], width=8, height=3))
    +--------+
    |....    |
    |o...   x|
    |....    |
    +--------+
    """
    if model.nin != 2:
        raise ValueError(f"decision_map: needs a model with 2 inputs, got {model.nin}")
    _check_data("decision_map", points, targets)
    check_count("decision_map", "width", width)
    check_count("decision_map", "height", height)
    threshold = check_number("decision_map", "threshold", threshold)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    margin_x = 0.1 * (max(xs) - min(xs) or 1.0)
    margin_y = 0.1 * (max(ys) - min(ys) or 1.0)
    left, right = min(xs) - margin_x, max(xs) + margin_x
    bottom, top = min(ys) - margin_y, max(ys) + margin_y

    def predicted_class(point: list[float]) -> int:
        output = model(point)
        if isinstance(output, list):
            scores = [v.data for v in output]
            return scores.index(max(scores))
        return int(output.data > threshold)

    def cell_centre(row: int, column: int) -> list[float]:
        x = left + (right - left) * (column + 0.5) / width
        y = top - (top - bottom) * (row + 0.5) / height
        return [x, y]

    with no_grad():
        grid = [
            [REGION_MARKS[predicted_class(cell_centre(row, column)) % len(REGION_MARKS)]
             for column in range(width)]
            for row in range(height)
        ]  # fmt: skip
    several_classes = isinstance(targets[0], int) and max(targets) > 1
    for (x, y), target in zip(points, targets):
        column = min(int((x - left) / (right - left) * width), width - 1)
        row = min(int((top - y) / (top - bottom) * height), height - 1)
        target_class = target if several_classes else int(target > 0)
        grid[row][column] = SAMPLE_MARKS[target_class % len(SAMPLE_MARKS)]
    edge = "+" + "-" * width + "+"  # a frame keeps every row full width, blanks included
    return "\n".join([edge, *("|" + "".join(row) + "|" for row in grid), edge])


def decision_map_legend(targets: Sequence) -> str:
    """Which character of ``decision_map`` is which class, for these targets.

    >>> decision_map_legend([-1, 1, 1])
    "region '.' predicts -1, ' ' predicts 1; sample 'o' is a -1, 'x' is a 1"
    >>> decision_map_legend([0, 2, 1])
    "region '.' predicts 0, ' ' predicts 1, '-' predicts 2; sample 'o' is a 0, 'x' is a 1, ..."
    """
    several_classes = isinstance(targets[0], int) and max(targets) > 1
    if several_classes:
        names = [str(k) for k in range(max(targets) + 1)]
    else:
        negative = [t for t in targets if t <= 0]
        positive = [t for t in targets if t > 0]
        names = [f"{negative[0]:g}" if negative else "0", f"{positive[0]:g}" if positive else "1"]
    regions = ", ".join(f"{REGION_MARKS[k]!r} predicts {n}" for k, n in enumerate(names))
    samples = ", ".join(f"{SAMPLE_MARKS[k]!r} is a {n}" for k, n in enumerate(names))
    return f"region {regions}; sample {samples}"
