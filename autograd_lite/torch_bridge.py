"""Graduation to PyTorch: carry an ``MLP`` to a ``torch.nn.Sequential`` and back, exactly.

When a scalar engine is no longer enough, the same network goes on in PyTorch with the
same numbers. Layer l of the MLP becomes ``torch.nn.Linear(fan_in, neurons)`` in float64,
whose ``weight[j, i]`` is ``L{l}.n{j}.w{i}`` and ``bias[j]`` is ``L{l}.n{j}.b``, followed
by its activation module (none for "linear"):

    ==============  ===============================
    MLP activation  PyTorch module
    ==============  ===============================
    sigmoid         torch.nn.Sigmoid()
    tanh            torch.nn.Tanh()
    relu            torch.nn.ReLU()
    leaky_relu      torch.nn.LeakyReLU(0.01)
    linear          (nothing after the Linear)
    ==============  ===============================

``TORCH_LOSSES`` maps the project's loss names (those of ``autograd_lite.training.LOSSES``)
to PyTorch's, and ``torch_loss`` computes them. Two have no PyTorch twin and are written
with torch operations: "hinge" (mean of max(0, 1 − y·score)) and "half_sum_squared_error"
(the notes' E = ½ Σ (t − a)²).

PyTorch is an optional extra (``pip install ".[torch]"``); only this module imports it,
and only when one of its functions is called. The engine, ``nn`` and the command line
never do.

>>> import torch
>>> from autograd_lite.nn import MLP
>>> model = MLP(2, [3, 1], activation="tanh", seed=0)
>>> net = to_torch(model)
>>> net
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): Tanh()
  (2): Linear(in_features=3, out_features=1, bias=True)
)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from autograd_lite import names
from autograd_lite.checks import wrong_kind
from autograd_lite.nn.model import MLP

if TYPE_CHECKING:  # only for the type hints: importing this module never imports torch
    import torch

__all__ = [
    "TORCH_ACTIVATIONS",
    "TORCH_LOSSES",
    "TORCH_MESSAGE",
    "from_torch",
    "to_torch",
    "torch_gradients",
    "torch_loss",
]

TORCH_MESSAGE = 'this needs PyTorch: pip install ".[torch]" (or: pip install torch)'

# MLP activation name -> the name of the torch.nn module that applies it (None: no module)
TORCH_ACTIVATIONS: dict[str, str | None] = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "linear": None,
}
LEAKY_SLOPE = 0.01  # Value.leaky_relu's default slope, which the MLP uses


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(TORCH_MESSAGE) from None
    return torch


def to_torch(model: MLP) -> torch.nn.Sequential:
    """A ``torch.nn.Sequential`` in float64 with the same layer sizes, weights and activations.

    The copy is independent: training one leaves the other as it was.

    >>> from autograd_lite.nn import MLP
    >>> net = to_torch(MLP(2, [3, 1], seed=0))
    >>> [type(m).__name__ for m in net]
    ['Linear', 'Tanh', 'Linear']
    """
    if not isinstance(model, MLP):
        raise wrong_kind("to_torch", "model", "an MLP", model)
    torch = _torch()
    modules = []
    for layer in model.layers:
        fan_in = len(layer.neurons[0].w)
        linear = torch.nn.Linear(fan_in, len(layer.neurons), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(
                torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
            )
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        name = TORCH_ACTIVATIONS[layer.activation]
        if name == "LeakyReLU":
            modules.append(torch.nn.LeakyReLU(LEAKY_SLOPE))
        elif name is not None:
            modules.append(getattr(torch.nn, name)())
    return torch.nn.Sequential(*modules)


def from_torch(sequential: torch.nn.Sequential) -> MLP:
    """An MLP with the weights of a ``Sequential`` of ``Linear`` layers and activations.

    Each ``Linear`` (with a bias) may be followed by one of the activation modules above;
    the hidden layers must share one activation (the MLP's ``activation``), the last one
    may differ (its ``output_activation``). Anything else raises a ``ValueError`` naming
    the layer, e.g. ``from_torch: layer 2 is Dropout; only Linear, Sigmoid, Tanh, ReLU,
    LeakyReLU(0.01) can be carried over``; so does a ``Linear`` whose numbers an MLP cannot
    take: complex weights, weights on the meta device (no numbers yet), a lazy layer not
    yet run. Weights are copied exactly (float16, bfloat16 and float32 ones are widened to
    float64 without rounding).

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(),
    ...                           torch.nn.Linear(4, 1))
    >>> from_torch(net)
    MLP(
      (L0): Layer(2 -> 4, relu)
      (L1): Layer(4 -> 1, linear)
    )
    """
    torch = _torch()
    if not isinstance(sequential, torch.nn.Sequential):
        raise wrong_kind("from_torch", "sequential", "a torch.nn.Sequential", sequential)
    supported = "only Linear, Sigmoid, Tanh, ReLU, LeakyReLU(0.01) can be carried over"
    by_module = {name: act for act, name in TORCH_ACTIVATIONS.items() if name}
    linears: list[Any] = []
    activations: list[str] = []
    for position, module in enumerate(sequential):
        kind = type(module).__name__
        where = f"from_torch: layer {position} is {kind}"
        if isinstance(module, torch.nn.Linear):
            _check_numbers(torch, module, where)
            if module.bias is None:
                raise ValueError(f"{where} without a bias; every neuron of an MLP has one")
            if linears and module.in_features != linears[-1].out_features:
                raise ValueError(
                    f"{where} with {module.in_features} inputs after a layer of "
                    f"{linears[-1].out_features} outputs"
                )
            linears.append(module)
            activations.append("linear")
        elif type(module) in {getattr(torch.nn, name) for name in by_module}:
            if not linears or activations[-1] != "linear" or len(activations) != len(linears):
                raise ValueError(f"{where}, which does not follow a Linear layer; {supported}")
            if kind == "LeakyReLU" and module.negative_slope != LEAKY_SLOPE:
                raise ValueError(
                    f"{where} with slope {module.negative_slope}; the MLP's leaky_relu has "
                    f"slope {LEAKY_SLOPE}"
                )
            activations[-1] = by_module[kind]
        else:
            raise ValueError(f"{where}; {supported}")
    if not linears:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    hidden = set(activations[:-1])
    if len(hidden) > 1:
        raise ValueError(
            "from_torch: the hidden layers use different activations "
            f"({', '.join(sorted(hidden))}); an MLP has one activation for all of them"
        )
    model = MLP(
        linears[0].in_features,
        [linear.out_features for linear in linears],
        activation=hidden.pop() if hidden else "tanh",
        output_activation=activations[-1],
    )
    for layer, linear in zip(model.layers, linears):
        weights = linear.weight.detach().double().tolist()
        biases = linear.bias.detach().double().tolist()
        for neuron, row, bias in zip(layer.neurons, weights, biases):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = bias
    return model


def _check_numbers(torch: Any, linear: Any, where: str) -> None:
    """Refuse a Linear layer whose weights an MLP cannot take as they are (``.double()``
    would drop a complex weight's imaginary part, and a meta tensor has no numbers)."""
    if isinstance(linear, torch.nn.modules.lazy.LazyModuleMixin) and (
        linear.has_uninitialized_params()
    ):
        raise ValueError(
            f"{where}, not initialized yet (its number of inputs is unknown); run the "
            "Sequential once on a batch, then carry it over"
        )
    for name in ("weight", "bias"):
        tensor = getattr(linear, name)
        if tensor is None:
            continue  # no bias: refused with its own message
        if tensor.is_meta:
            raise ValueError(
                f"{where} on the meta device: its {name} has a shape but no numbers; "
                "load or initialize them first (e.g. to_empty() then load_state_dict())"
            )
        if tensor.is_complex() or not tensor.is_floating_point():
            raise ValueError(
                f"{where} with {str(tensor.dtype).removeprefix('torch.')} {name}; an MLP holds "
                "real numbers (float16, bfloat16, float32 or float64 weights)"
            )


def torch_gradients(sequential: torch.nn.Sequential) -> dict[str, float]:
    """Each ``.grad`` of the Linear layers' weights and biases, under the MLP's names.

    >>> import torch
    >>> from autograd_lite.nn import MLP
    >>> net = to_torch(MLP(2, [3, 1], seed=0))
    >>> net(torch.tensor([[0.5, -1.0]], dtype=torch.float64)).sum().backward()
    >>> grads = torch_gradients(net)
    >>> len(grads), grads["L0.n2.w1"] == net[0].weight.grad[2, 1].item()
    (13, True)
    """
    torch = _torch()
    if not isinstance(sequential, torch.nn.Sequential):
        raise wrong_kind("torch_gradients", "sequential", "a torch.nn.Sequential", sequential)
    linears = [m for m in sequential if isinstance(m, torch.nn.Linear)]
    found: dict[str, float] = {}
    for l, linear in enumerate(linears):  # noqa: E741 (l for layer, as in the notes)
        if linear.weight.grad is None:
            raise ValueError(f"torch_gradients: layer {l} has no gradient yet; call backward()")
        for j, row in enumerate(linear.weight.grad.tolist()):
            for i, value in enumerate(row):
                found[names.weight((l, j), i)] = value
        for j, value in enumerate(linear.bias.grad.tolist()):
            found[names.bias((l, j))] = value
    return found


# --- losses -------------------------------------------------------------------------------


def _targets(torch: Any, outputs: torch.Tensor, targets: Sequence) -> torch.Tensor:
    return torch.tensor(targets, dtype=torch.float64).reshape(outputs.shape)


def _mse(torch: Any, outputs: torch.Tensor, targets: Sequence) -> torch.Tensor:
    return torch.nn.functional.mse_loss(outputs, _targets(torch, outputs, targets))


def _half_sum_squared_error(torch: Any, outputs: torch.Tensor, targets: Sequence) -> torch.Tensor:
    return 0.5 * ((_targets(torch, outputs, targets) - outputs) ** 2).sum()


def _bce(torch: Any, outputs: torch.Tensor, targets: Sequence) -> torch.Tensor:
    return torch.nn.functional.binary_cross_entropy(outputs, _targets(torch, outputs, targets))


def _bce_with_logits(torch: Any, outputs: torch.Tensor, targets: Sequence) -> torch.Tensor:
    return torch.nn.functional.binary_cross_entropy_with_logits(
        outputs, _targets(torch, outputs, targets)
    )


def _hinge(torch: Any, outputs: torch.Tensor, targets: Sequence) -> torch.Tensor:
    return torch.clamp(1.0 - outputs * _targets(torch, outputs, targets), min=0.0).mean()


def _cross_entropy(torch: Any, outputs: torch.Tensor, targets: Sequence) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(outputs, torch.tensor(targets, dtype=torch.long))


# project loss name -> (what it is in PyTorch, the function computing it there)
TORCH_LOSSES: dict[str, tuple[str, Callable[..., Any]]] = {
    "mse": ("torch.nn.functional.mse_loss", _mse),
    "half_sum_squared_error": (
        "0.5 * ((t - a) ** 2).sum(), in torch ops (no twin)",
        _half_sum_squared_error,
    ),
    "bce": ("torch.nn.functional.binary_cross_entropy", _bce),
    "bce_with_logits": ("torch.nn.functional.binary_cross_entropy_with_logits", _bce_with_logits),
    "softmax_cross_entropy": ("torch.nn.functional.cross_entropy", _cross_entropy),
    "hinge": ("torch.clamp(1 - y * score, min=0).mean(), in torch ops (no twin)", _hinge),
}


def torch_loss(name: str, outputs: torch.Tensor, targets: Sequence) -> torch.Tensor:
    """The project's loss ``name`` computed in PyTorch on a batch of ``outputs``.

    ``outputs`` is what the Sequential returns for a batch, shape (samples, outputs);
    ``targets`` is as the project's loss takes them (numbers, or lists of numbers per
    sample, or class numbers for "softmax_cross_entropy").

    >>> import torch
    >>> torch_loss("mse", torch.tensor([[1.0], [3.0]], dtype=torch.float64), [0.0, 1.0])
    ... # doctest: +SKIP
    tensor(2.5000, dtype=torch.float64)
    """
    if name not in TORCH_LOSSES:
        raise ValueError(
            f"torch_loss: unknown loss {name!r}; choose one of {', '.join(TORCH_LOSSES)}"
        )
    torch = _torch()
    return TORCH_LOSSES[name][1](torch, outputs, targets)
