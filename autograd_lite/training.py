"""The training loop: forward, loss, backward, optimizer step, repeat; with a progress bar.

This module uses ``tqdm`` for the bar, so it lives outside ``autograd_lite.nn`` (which uses
only the standard library). The loop itself is the one every example spells out:

    outputs = [model(x) for x in batch]            # forward pass
    loss = loss_function(outputs, targets)         # how wrong (+ optional L2 penalty)
    optimizer.zero_grad(); loss.backward()         # blame of every weight
    optimizer.step()                               # w = w - lr * dE/dw

``fit`` runs it and records a ``History``; ``on_step`` lets a page or a command watch each
step (and stop training) without writing a loop of its own. Each other job has its room,
and this module hands their public names on, so ``autograd_lite.training`` is the one
import a learner needs:

* ``batch_loss`` -- ``LOSSES`` by name, ``forward_pass``, the checks of the samples;
* ``step_loss`` -- one step's loss and gradients, by the engine or by a replayed program;
* ``divergence`` -- when training has diverged (``DIVERGENCE_FACTOR``), and the weights of
  the last sound step;
* ``decision_map`` -- the plane of a 2-input classifier as text.

>>> from autograd_lite.nn import MLP, data
>>> points, targets = data.xor(labels=(-1, 1))
>>> model = MLP(2, [8, 1], seed=0)
>>> history = fit(model, points, targets, loss="hinge", epochs=50, progress=False)
>>> len(history.loss), history.loss[-1] < history.loss[0]
(50, True)
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from tqdm import tqdm

from autograd_lite.batch_loss import (
    LOSSES,
    check_data,
    check_samples,
    forward_pass,
    loss_functions,
)
from autograd_lite.checks import check_callable, check_count, check_number, check_seed
from autograd_lite.decision_map import decision_map, decision_map_legend
from autograd_lite.divergence import DIVERGENCE_FACTOR, DivergenceError, SoundWeights
from autograd_lite.modes import no_grad
from autograd_lite.nn.model import MLP
from autograd_lite.nn.optim import SGD, Optimizer
from autograd_lite.program import BACKENDS
from autograd_lite.step_loss import EngineLoss, FlatSteps, ReplayedLoss

__all__ = [
    "DIVERGENCE_FACTOR",
    "LOSSES",
    "DivergenceError",
    "History",
    "TrainingStep",
    "collector_paused",
    "decision_map",
    "decision_map_legend",
    "evaluate",
    "fit",
    "forward_pass",
]


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
    # With a replay backend: how many times a batch was traced again because a decision
    # recorded at trace time (softmax's shift, a comparison) went the other way.
    retraces: int = 0

    def __len__(self) -> int:
        return len(self.loss)


@dataclass(frozen=True)
class TrainingStep:
    """What ``fit`` hands to ``on_step`` after each optimizer step.

    * ``step`` -- the step's number (0-based, counted over the whole run);
    * ``epoch`` -- the pass over the data it belongs to (0-based);
    * ``loss`` -- the batch's loss, L2 penalty included, measured before this step's update
      (the number ``History.loss`` records);
    * ``accuracy`` -- on that batch, before the update (None for regression);
    * ``learning_rate`` -- the rate this step's update used;
    * ``model`` -- the model being trained, already updated by this step; each parameter's
      ``grad`` still holds this step's gradient.

    >>> from autograd_lite.nn import MLP
    >>> seen = []
    >>> history = fit(MLP(1, [1], seed=0), [[1.0]], [2.0], loss="mse", epochs=2,
    ...               progress=False, on_step=seen.append)
    >>> [(s.step, s.epoch, s.loss == history.loss[s.step], s.learning_rate) for s in seen]
    [(0, 0, True, 0.1), (1, 1, True, 0.1)]
    """

    step: int
    epoch: int
    loss: float
    accuracy: float | None
    learning_rate: float
    model: MLP


OnStep = Callable[[TrainingStep], bool | None]  # what on_step is: see fit


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
    on_step: OnStep | None = None,
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
      gradients and so the same training (bit for bit for "python" and "c"); with "c" the
      weights stay in the replay's flat buffer and the optimizer updates them there (its
      own rule, compiled), back in the model's Values at the end and for ``on_step``;
    * ``on_step`` -- a function called after every step with a ``TrainingStep`` (the step's
      number, epoch, loss, accuracy, learning rate and the model), to watch training or to
      stop it: return ``False`` to stop after this step (``fit`` then returns the history
      so far), ``None`` or ``True`` to go on. Any other return value is a ``TypeError``;
      an exception it raises goes out through ``fit``, the step it watched being done.

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
    >>> def until_small(step):                  # stop once the loss is below 1
    ...     return step.loss >= 1.0
    >>> history = fit(MLP(1, [1], seed=0), [[1.0], [2.0]], [2.0, 4.0], loss="mse",
    ...               epochs=100, progress=False, on_step=until_small)
    >>> len(history) < 100, history.loss[-1] < 1.0 <= history.loss[-2]
    (True, True)
    """
    _, accuracy_function = loss_functions("fit", loss)
    check_data("fit", inputs, targets)
    check_count("fit", "epochs", epochs)
    batch_size = len(inputs) if batch_size is None else check_count("fit", "batch_size", batch_size)
    l2 = check_number("fit", "l2", l2, minimum=0.0)
    if on_step is not None:
        check_callable("fit", "on_step", on_step)
    check_samples(model, inputs, targets, loss)
    if backend not in ("engine", *BACKENDS):
        raise ValueError(
            f"fit: unknown backend {backend!r}; choose one of engine, {', '.join(BACKENDS)}"
        )
    rng = random.Random(check_seed("fit", "seed", seed))
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=0.1)
    flat = None
    if backend == "c" and FlatSteps.supports(model, optimizer):
        # the fast path: the weights stay in the C replay's buffer, updated there
        flat = FlatSteps(model, loss, l2, optimizer, inputs, targets)
    elif backend == "engine":
        step_loss: EngineLoss | ReplayedLoss = EngineLoss(model, loss, l2)
    else:
        step_loss = ReplayedLoss(model, loss, l2, backend)
    sound = SoundWeights(model.parameters())
    steps_per_epoch = -(-len(inputs) // batch_size)  # rounded up: a smaller last batch
    history = History()
    with tqdm(
        total=epochs * steps_per_epoch, desc=description, unit="step", disable=not progress
    ) as bar:
        try:
            for epoch, batch in _batches(len(inputs), epochs, batch_size, rng):
                began = time.perf_counter()
                step = len(history)
                if flat is not None:  # no graph: nothing for the collector to wait for
                    value, accuracy, rate = flat.step(step, batch, accuracy_function)
                else:
                    batch_inputs = [inputs[i] for i in batch]
                    batch_targets = [targets[i] for i in batch]
                    with collector_paused():  # the step's graph is freed before it is back
                        value, accuracy, rate = _one_step(
                            step, batch_inputs, batch_targets, step_loss, optimizer, sound,
                            accuracy_function,
                        )  # fmt: skip
                history.seconds.append(time.perf_counter() - began)
                history.loss.append(value)
                history.accuracy.append(accuracy)
                history.learning_rate.append(rate)
                if progress:
                    bar.set_postfix(_postfix(value, accuracy), refresh=False)
                bar.update()
                if on_step is not None:
                    if flat is not None:
                        flat.write_back()  # the watcher sees the model as it is now
                    watched = TrainingStep(step, epoch, value, accuracy, rate, model)
                    going = _keeps_going(on_step(watched))
                    if flat is not None:
                        flat.read_back()  # and may have changed it
                    if not going:
                        break
        finally:
            if flat is not None:
                flat.write_back()
            history.retraces = (flat if flat is not None else step_loss).retraces
    return history


def _batches(
    count: int, epochs: int, batch_size: int, rng: random.Random
) -> Iterator[tuple[int, list[int]]]:
    """(epoch, indices of the batch's samples) for every step: the samples in order for
    full batches, reshuffled every epoch for mini-batches (the last one may be smaller)."""
    order = list(range(count))
    for epoch in range(epochs):
        if batch_size < count:
            rng.shuffle(order)
        for start in range(0, count, batch_size):
            yield epoch, order[start : start + batch_size]


def _one_step(
    step: int,
    inputs: list,
    targets: list,
    step_loss: EngineLoss | ReplayedLoss,
    optimizer: Optimizer,
    sound: SoundWeights,
    accuracy_function: Callable[..., float] | None,
) -> tuple[float, float | None, float]:
    """Forward, loss, backward, update: returns (loss, accuracy, learning rate). Raises
    ``DivergenceError`` with the weights of the last sound step put back."""
    optimizer.zero_grad()
    try:
        value, outputs = step_loss.forward(inputs, targets)
    except OverflowError as error:
        raise sound.forward_overflowed(step, error) from None
    sound.check_loss(value, step)
    rate = optimizer.learning_rate()
    try:
        step_loss.backward()
        optimizer.step()
    except (OverflowError, DivergenceError) as error:
        raise sound.update_failed(step, value, error) from None
    accuracy = accuracy_function(outputs, targets) if accuracy_function else None
    return value, accuracy, rate


def _keeps_going(answer: object) -> bool:
    """What ``on_step`` returned: False stops, None or True goes on."""
    if answer is None or answer is True:
        return True
    if answer is False:
        return False
    raise TypeError(
        "fit: on_step must return None or True (go on) or False (stop), "
        f"got {type(answer).__name__} {answer!r}"
    )


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
    _, accuracy_function = loss_functions("evaluate", loss)
    with no_grad():
        total, outputs = forward_pass(model, inputs, targets, loss=loss, l2=l2)
    accuracy = accuracy_function(outputs, targets) if accuracy_function else None
    return total.data, accuracy
