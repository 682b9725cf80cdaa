"""A training step's loss and gradients, computed by the engine or by a replayed program.

``fit`` asks one of the two classes here for each batch's loss; both leave every
parameter's gradient in its ``grad`` once ``backward()`` is called:

* ``EngineLoss`` builds the graph at every step (``forward_pass``), and ``backward()`` walks it;
* ``ReplayedLoss`` traces that graph once per batch size and replays the program
  (``autograd_lite.program``) in pure Python, NumPy or C: the replay gives the loss and
  every gradient at once, so its ``backward()`` has nothing left to do.

``FlatSteps`` is ``fit(backend="c")``'s whole step, loss to update: the weights stay in one
flat buffer of the C replay for the whole run and the optimizer's rule, compiled, updates
them there; the model's Values get them back at the end.

>>> from autograd_lite.nn import MLP
>>> model = MLP(2, [3, 1], seed=0)
>>> batch = [[0.5, -1.0], [1.0, 2.0]], [1, -1]
>>> grads = []
>>> for step in (EngineLoss(model, "hinge", 0.0), ReplayedLoss(model, "hinge", 0.0, "python")):
...     model.zero_grad()
...     loss, _ = step.forward(*batch)
...     step.backward()
...     grads.append([p.grad for p in model.parameters()])
>>> grads[0] == grads[1]                 # the same gradients, bit for bit
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from autograd_lite.batch_loss import forward_pass
from autograd_lite.divergence import SoundWeights
from autograd_lite.engine import Value
from autograd_lite.names import input_name
from autograd_lite.nn.metrics import binary_accuracy
from autograd_lite.nn.model import MLP
from autograd_lite.nn.optim import DivergenceError, Optimizer
from autograd_lite.program import Replay, replay, trace
from autograd_lite.program.backends import ReplayError

__all__ = ["EngineLoss", "FlatSteps", "ReplayedLoss"]


class EngineLoss:
    """The loss of a batch by the engine: ``forward`` records the graph, ``backward`` walks
    it (and lets it go, so the graph is freed as soon as the gradients are in).

    >>> from autograd_lite.nn import MLP
    >>> model = MLP(1, [1], output_activation="linear", seed=0)
    >>> model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].b.data = 2.0, 0.0
    >>> step = EngineLoss(model, "mse", 0.0)
    >>> step.forward([[1.0]], [3.0])[0]          # (2 - 3)²
    1.0
    >>> step.backward()
    >>> model.layers[0].neurons[0].w[0].grad     # 2 (2 - 3) × 1
    -2.0
    """

    retraces = 0  # the engine traces nothing: its graph is made anew every step

    def __init__(self, model: MLP, loss: str, l2: float) -> None:
        self.model, self.loss, self.l2 = model, loss, l2
        self._total: Value | None = None

    def forward(self, inputs: Sequence[Sequence[float]], targets: Sequence) -> tuple[float, list]:
        """(loss, outputs) of the model on this batch, with the graph recorded."""
        self._total, outputs = forward_pass(self.model, inputs, targets, loss=self.loss, l2=self.l2)
        return self._total.data, outputs

    def backward(self) -> None:
        """Every parameter's gradient of the last ``forward``'s loss."""
        total, self._total = self._total, None
        if total is not None:
            total.backward()

    def release(self) -> None:
        """Let the recorded graph go (after a failed step)."""
        self._total = None


class ReplayedLoss:
    """The loss and its gradients by replaying a traced program instead of the engine.

    One program per batch size, traced from the very graph ``forward_pass`` builds, with
    the samples and the targets as fed inputs (softmax cross-entropy's targets are class
    numbers, which shape the graph: there one program per batch of targets). ``forward``
    leaves each parameter's gradient in its ``grad``, as ``backward()`` would.

    >>> from autograd_lite.nn import MLP
    >>> model = MLP(1, [1], output_activation="linear", seed=0)
    >>> model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].b.data = 2.0, 0.0
    >>> step = ReplayedLoss(model, "mse", 0.0, "python")
    >>> step.forward([[1.0]], [3.0])[0], model.layers[0].neurons[0].w[0].grad
    (1.0, -2.0)
    """

    def __init__(self, model: MLP, loss: str, l2: float, backend: str) -> None:
        self.model, self.loss, self.l2, self.backend = model, loss, l2, backend
        self.params = model.parameters()
        self.fed_targets = loss != "softmax_cross_entropy"
        self.programs: dict[tuple, Replay] = {}
        self.retraces = 0  # batches traced again because a recorded decision no longer held

    def forward(self, inputs: Sequence[Sequence[float]], targets: Sequence) -> tuple[float, list]:
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
            self.retraces += 1
            result = self.programs[key].run(feed, weights)
        for p, g in zip(self.params, result.gradients):
            p.grad = float(g)
        width = self.model.nouts[-1]
        outputs = [float(v) for v in result.outputs]
        if width > 1:
            outputs = [outputs[k : k + width] for k in range(0, len(outputs), width)]
        return float(result.loss), outputs  # a NumPy float from the numpy replay

    def backward(self) -> None:
        """Nothing to do: ``forward`` gave every gradient already."""

    def release(self) -> None:
        """Nothing to let go: a replay keeps no graph between steps."""

    def _trace(self, inputs: Sequence[Sequence[float]], targets: Sequence) -> Replay:
        samples = [[Value(float(v), input_name(i)) for i, v in enumerate(x)] for x in inputs]
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


class FlatSteps:
    """``fit(backend="c")``'s step, loss to update, on a flat buffer of weights.

    The weights stay in one flat buffer for the whole run: every C replay (one per batch
    size, as ``ReplayedLoss`` traces them) reads them there, and the optimizer's own
    ``rule``, compiled (``c_backend.FlatUpdate``), updates them there. A step is one call
    into C for the loss and the gradients and one for the update; the samples are copied
    into the replay in C too, and only when the batch changes. ``write_back`` gives the
    weights (and the last gradients, and the optimizer's running values) back to the
    model's Values. Divergence is judged and rolled back as on the engine path
    (``divergence.SoundWeights``, the optimizer's checks), so the same run gives the same
    weights, the same history and the same errors.

    >>> from autograd_lite.nn import MLP, SGD
    >>> model = MLP(1, [1], output_activation="linear", seed=0)
    >>> model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].b.data = 2.0, 0.0
    >>> steps = FlatSteps(model, "mse", 0.0, SGD(model.parameters(), lr=0.1), [[1.0]], [3.0])
    >>> steps.step(0, [0], None)[0]         # (2 - 3)², then w = 2 - 0.1 * (-2)
    1.0
    >>> steps.write_back()
    >>> model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].w[0].grad
    (2.2, -2.0)
    """

    def __init__(
        self,
        model: MLP,
        loss: str,
        l2: float,
        optimizer: Optimizer,
        inputs: Sequence[Sequence[float]],
        targets: Sequence,
    ) -> None:
        from autograd_lite.program import c_backend  # ctypes and a compiler: only when used

        self._c = c_backend
        self.model, self.optimizer = model, optimizer
        self.params = model.parameters()
        self._tracer = ReplayedLoss(model, loss, l2, "c")
        self.weights = c_backend.weights_array([p.data for p in self.params])
        position = {id(p): k for k, p in enumerate(self.params)}
        self._update = c_backend.FlatUpdate(
            optimizer, [position[id(p)] for p in optimizer.params], self.weights
        )
        self._labels = [p.label for p in optimizer.params]
        self.inputs, self.targets = inputs, list(targets)
        self._width = len(inputs[0])
        self._x = c_backend.weights_array([float(v) for x in inputs for v in x])
        fed = [_flat([t]) for t in self.targets] if self._tracer.fed_targets else []
        self._target_width = len(fed[0]) if fed else 0
        self._t = c_backend.weights_array([v for t in fed for v in t])
        self._replays: dict[tuple, list] = {}  # batch key -> [replay, the batch it holds]
        self._last: Replay | None = None  # the replay of the last step: its gradients
        self._held: list = []  # the entry of _replays the last step ran
        self._accuracy: tuple = (None, None)  # (accuracy function, its threshold in C or None)
        self.sound = SoundWeights([])  # the loss checks; the kept weights are the update's

    @staticmethod
    def supports(model: MLP, optimizer: Optimizer) -> bool:
        """Whether an optimizer can run on the flat buffer: its update is its ``rule``
        (``update`` not replaced) and every parameter it moves is one of the model's."""
        kind = type(optimizer)
        if kind.update is not Optimizer.update or kind.rule is Optimizer.rule:
            return False
        ours = {id(p) for p in model.parameters()}
        return all(id(p) in ours for p in optimizer.params)

    def step(
        self, step: int, batch: list[int], accuracy_function: Callable[..., float] | None
    ) -> tuple[float, float | None, float]:
        """Forward, loss, backward, update of the samples ``batch`` (their indices): returns
        (loss, accuracy, learning rate), as ``training._one_step`` does. Raises
        ``DivergenceError`` with the weights of the last sound step put back."""
        try:
            replay, targets = self._fed(batch)
            try:
                value = replay.step()
            except ReplayError:
                # a number recorded from the traced data no longer fits (softmax's shift):
                # trace this batch again; where the engine refuses the data, tracing raises
                replay, targets = self._fed(batch, again=True)
                self._tracer.retraces += 1
                value = replay.step()
        except OverflowError as error:
            self._last = None  # no gradient this step (the engine path has zeroed them)
            for p in self.params:
                p.grad = 0.0
            raise self._rolled_back(self.sound.forward_overflowed(step, error)) from None
        self._last = replay
        try:
            self.sound.check_loss(value, step)
        except DivergenceError as error:
            raise self._rolled_back(error) from None
        optimizer = self.optimizer
        rate = optimizer.learning_rate()
        failed = self._update(replay.gradient_array, optimizer.settings(rate))
        if failed != -1:
            if failed < -1:
                k = -2 - failed
                at = self._update.positions[k]
                problem = optimizer.bad_gradient(
                    self._labels[k], replay.buffers.gradients[at], self.weights[at]
                )
            else:
                became = f"{self._labels[failed] or 'a parameter'} became {self._update.became!r}"
                problem = optimizer.bad_update(became, rate)
            raise self._rolled_back(self.sound.update_failed(step, value, problem)) from None
        optimizer.step_count += 1
        accuracy = None
        if accuracy_function is not None:
            if self._accuracy[0] is not accuracy_function:
                self._accuracy = (accuracy_function, self._threshold_in_c(accuracy_function))
            threshold = self._accuracy[1]
            if threshold is not None:  # two classes: counted in C, the same count and n
                held = self._held
                if held[3] is None:  # the batch's target signs, once per batch
                    held[3] = self._c.weights_array([1.0 if 0 < t else 0.0 for t in targets])
                return value, replay.binary_correct(held[3], threshold) / len(targets), rate
            outputs = replay.buffers.outputs.tolist()
            width = self.model.nouts[-1]
            if width > 1:
                outputs = [outputs[k : k + width] for k in range(0, len(outputs), width)]
            accuracy = accuracy_function(outputs, targets)
        return value, accuracy, rate

    @property
    def retraces(self) -> int:
        """Batches traced again because a recorded decision went the other way."""
        return self._tracer.retraces

    def write_back(self) -> None:
        """The weights into the model's Values, the last step's gradients into their
        ``grad``, the running values (momentum, averages) into the optimizer."""
        for p, w in zip(self.params, self.weights):
            p.data = w
        if self._last is not None:
            for p, g in zip(self.params, self._last.buffers.gradients):
                p.grad = g
        for name, values in zip(self._update.running, self._update.running_values()):
            setattr(self.optimizer, name, values)

    def read_back(self) -> None:
        """The model's Values and the optimizer's running values into the buffers (after a
        watcher, who may have changed them)."""
        for k, p in enumerate(self.params):
            self.weights[k] = p.data
        self._update.set_running_values([getattr(self.optimizer, n) for n in self._update.running])

    def _fed(self, batch: list[int], again: bool = False) -> tuple[Replay, list]:
        """The replay of this batch's shape, with the batch's samples in its inputs; and
        the batch's targets."""
        targets = [self.targets[i] for i in batch] if not self._tracer.fed_targets else ()
        key = (len(batch), *targets)
        found = self._replays.get(key)
        if found is None or again:
            self.write_back()  # the trace runs the model: it needs the current weights
            batch_inputs = [self.inputs[i] for i in batch]
            batch_targets = [self.targets[i] for i in batch]
            replay = self._tracer._trace(batch_inputs, batch_targets)
            replay._share_params(self.weights)  # type: ignore[attr-defined]
            found = self._replays[key] = [replay, None, [], None]
        replay, held = found[0], found[1]
        if held != batch:  # a new batch: its samples (and targets) into the replay, in C
            rows = self._c.rows_array(batch)
            replay._feed_rows(rows, len(batch), self._width, self._x, 0)  # type: ignore[attr-defined]
            if self._target_width:
                first = len(batch) * self._width
                replay._feed_rows(rows, len(batch), self._target_width, self._t, first)  # type: ignore[attr-defined]
            found[1], found[2], found[3] = list(batch), [self.targets[i] for i in batch], None
        self._held = found
        return replay, found[2]

    def _threshold_in_c(self, accuracy_function: Callable[..., float]) -> float | None:
        """The threshold of ``binary_accuracy`` (or of a ``partial`` of it setting only the
        threshold) with one output per sample, which C can count with; else None."""
        threshold: object = 0.0
        if isinstance(accuracy_function, partial):
            if accuracy_function.args or set(accuracy_function.keywords) - {"threshold"}:
                return None
            threshold = accuracy_function.keywords.get("threshold", 0.0)
            accuracy_function = accuracy_function.func
        if accuracy_function is not binary_accuracy or self.model.nouts[-1] != 1:
            return None
        # C compares doubles: only a threshold a double holds exactly counts the same
        if not isinstance(threshold, (int, float)):
            return None
        return float(threshold) if float(threshold) == threshold else None

    def _rolled_back(self, error: DivergenceError) -> DivergenceError:
        """The weights of the last sound step back (into the model too), and the error."""
        self._update.put_back()
        self.write_back()
        return error
