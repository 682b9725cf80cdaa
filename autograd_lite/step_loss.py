"""A training step's loss and gradients, computed by the engine or by a replayed program.

``fit`` asks one of the two classes here for each batch's loss; both leave every
parameter's gradient in its ``grad`` once ``backward()`` is called:

* ``EngineLoss`` builds the graph at every step (``forward_pass``), and ``backward()`` walks it;
* ``ReplayedLoss`` traces that graph once per batch size and replays the program
  (``autograd_lite.program``) in pure Python, NumPy or C: the replay gives the loss and
  every gradient at once, so its ``backward()`` has nothing left to do.

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

from collections.abc import Sequence

from autograd_lite.batch_loss import forward_pass
from autograd_lite.engine import Value
from autograd_lite.names import input_name
from autograd_lite.nn.model import MLP
from autograd_lite.program import Replay, replay, trace
from autograd_lite.program.backends import ReplayError

__all__ = ["EngineLoss", "ReplayedLoss"]


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
