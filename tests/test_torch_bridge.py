"""The bridge to PyTorch: same outputs, same gradients, every loss, exact round trips, refusals.

PyTorch computes its own forward and backward pass here, independently of the engine; the
two are compared to 1e-12 on random models, deep ones included.
"""

from __future__ import annotations

import random

import pytest
from helpers import needs_extra

from autograd_lite.nn import ACTIVATIONS, MLP
from autograd_lite.training import LOSSES, forward_pass

torch = needs_extra("torch")
from autograd_lite.torch_bridge import (  # noqa: E402 (after the skip: needs torch)
    TORCH_LOSSES,
    from_torch,
    to_torch,
    torch_gradients,
    torch_loss,
)

TOLERANCE = 1e-12


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def _problem(loss: str, rng: random.Random, samples: int):
    """(output size, output activation, targets) that suit the loss."""
    if loss == "softmax_cross_entropy":
        k = rng.randint(2, 4)
        return k, "linear", [rng.randrange(k) for _ in range(samples)]
    if loss == "hinge":
        return 1, "linear", [rng.choice([-1, 1]) for _ in range(samples)]
    if loss == "bce":
        return 1, "sigmoid", [rng.choice([0, 1]) for _ in range(samples)]
    if loss == "bce_with_logits":
        return 1, "linear", [rng.choice([0, 1]) for _ in range(samples)]
    k = rng.randint(1, 3)
    output_activation = rng.choice(list(ACTIVATIONS))
    if k == 1:
        return k, output_activation, [rng.uniform(-1, 1) for _ in range(samples)]
    return k, output_activation, [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(samples)]


def _compare(model: MLP, inputs, targets, loss: str) -> None:
    net = to_torch(model)
    engine_loss, engine_outputs = forward_pass(model, inputs, targets, loss=loss)
    model.zero_grad()
    engine_loss.backward()

    torch_outputs = net(torch.tensor(inputs, dtype=torch.float64))
    torch_total = torch_loss(loss, torch_outputs, targets)
    torch_total.backward()

    flat = [v.data for out in engine_outputs for v in (out if isinstance(out, list) else [out])]
    assert all(map(_close, flat, torch_outputs.detach().flatten().tolist()))
    assert _close(engine_loss.data, torch_total.item())
    grads = torch_gradients(net)
    assert set(grads) == {p.label for p in model.parameters()}
    for p in model.parameters():
        assert _close(p.grad, grads[p.label]), (p.label, p.grad, grads[p.label])


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_same_outputs_and_gradients_for_every_loss_and_activation(loss, activation):
    rng = random.Random(f"{loss}-{activation}")  # a str seed is the same in every run
    samples, nin = rng.randint(1, 5), rng.randint(1, 4)
    k, output_activation, targets = _problem(loss, rng, samples)
    hidden = [rng.randint(1, 6) for _ in range(rng.randint(0, 4))]
    model = MLP(nin, [*hidden, k], activation=activation, output_activation=output_activation,
                seed=rng.randrange(100))  # fmt: skip
    for p in model.parameters():  # biases away from 0 too
        p.data = rng.uniform(-1, 1)
    inputs = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(samples)]
    _compare(model, inputs, targets, loss)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu"])
def test_deep_models(activation):
    rng = random.Random(7)
    model = MLP(3, [5] * 12 + [2], activation=activation, seed=3)
    inputs = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(4)]
    _compare(model, inputs, [[0.5, -0.5]] * 4, "mse")
    _compare(model, inputs, [0, 1, 1, 0], "softmax_cross_entropy")


def test_every_project_loss_has_a_torch_twin():
    assert set(TORCH_LOSSES) == set(LOSSES)
    assert TORCH_LOSSES["mse"][0] == "torch.nn.functional.mse_loss"
    assert "no twin" in TORCH_LOSSES["hinge"][0]


def test_layout_and_round_trip_exact():
    model = MLP(3, [4, 4, 2], activation="leaky_relu", output_activation="sigmoid", seed=1)
    net = to_torch(model)
    assert [type(m).__name__ for m in net] == [
        "Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear", "Sigmoid"
    ]  # fmt: skip
    assert net[0].weight.dtype == torch.float64
    assert net[2].weight[3, 1].item() == model.layers[1].neurons[3].w[1].data
    back = from_torch(net)
    assert back.to_dict() == model.to_dict()
    again = to_torch(back)
    for a, b in zip(net.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_copies_are_independent():
    model = MLP(2, [2, 1], seed=0)
    net = to_torch(model)
    with torch.no_grad():
        net[0].weight[0, 0] = 123.0
    assert model.layers[0].neurons[0].w[0].data != 123.0


def test_from_a_float32_network_built_in_torch():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 5), torch.nn.Tanh(),
        torch.nn.Linear(5, 1),
    )  # fmt: skip
    model = from_torch(net)
    assert model.describe() == "MLP(3, [5, 5, 1], activation='tanh', output_activation='linear')"
    assert model.layers[2].neurons[0].b.data == net[4].bias[0].item()  # float32 widened exactly
    x = [0.1, -0.4, 0.7]
    assert _close(model(x).data, net.double()(torch.tensor([x], dtype=torch.float64)).item())


@pytest.mark.parametrize(
    "modules, message",
    [
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Dropout(0.5), torch.nn.Linear(3, 1)],
         "layer 1 is Dropout"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Softmax(dim=1)], "layer 1 is Softmax"),
        (lambda: [torch.nn.Conv1d(1, 1, 2)], "layer 0 is Conv1d"),
        (lambda: [torch.nn.Linear(2, 3, bias=False)], "without a bias"),
        (lambda: [torch.nn.ReLU(), torch.nn.Linear(2, 3)], "does not follow a Linear"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh()],
         "layer 2 is Tanh, which does not follow"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2)], "slope 0.2"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3), torch.nn.Tanh(),
                  torch.nn.Linear(3, 1)], "different activations"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)], "layer 1 is Linear with 4 inputs"),
        (lambda: [], "no Linear layer"),
        # what an MLP cannot hold: each refused, not silently changed or failing inside torch
        (lambda: [torch.nn.Linear(2, 3, dtype=torch.complex64)],
         r"^from_torch: layer 0 is Linear with complex64 weight; an MLP holds real numbers"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1, device="meta")],
         r"^from_torch: layer 2 is Linear on the meta device: its weight has a shape but no "),
        (lambda: [torch.nn.LazyLinear(3)],
         r"^from_torch: layer 0 is LazyLinear, not initialized yet \(its number of inputs is"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.LazyLinear(1)],
         r"^from_torch: layer 2 is LazyLinear, not initialized yet"),
    ],
)  # fmt: skip
def test_refusals_name_the_layer(modules, message):
    with pytest.raises(ValueError, match=message):
        from_torch(torch.nn.Sequential(*modules()))


def test_a_complex_bias_is_refused_too_and_no_warning_is_given(recwarn):
    linear = torch.nn.Linear(2, 3)
    linear.bias = torch.nn.Parameter(torch.zeros(3, dtype=torch.complex128))
    with pytest.raises(ValueError, match="layer 0 is Linear with complex128 bias"):
        from_torch(torch.nn.Sequential(linear))
    assert not recwarn.list  # .double() would have warned, dropping the imaginary part


def test_half_precision_and_a_lazy_layer_once_run_are_carried_over_exactly():
    torch.manual_seed(1)
    for dtype in (torch.float16, torch.bfloat16):
        net = torch.nn.Sequential(torch.nn.Linear(2, 3, dtype=dtype))
        model = from_torch(net)
        assert [n.b.data for n in model.layers[0].neurons] == net[0].bias.double().tolist()
    lazy = torch.nn.Sequential(torch.nn.LazyLinear(2, dtype=torch.float64), torch.nn.Tanh())
    lazy(torch.zeros(1, 4, dtype=torch.float64))  # the first call fixes 4 inputs
    model = from_torch(lazy)
    assert model.describe() == "MLP(4, [2], activation='tanh', output_activation='tanh')"
    assert model.layers[0].neurons[1].w[3].data == lazy[0].weight[1, 3].item()


def test_wrong_types():
    with pytest.raises(
        TypeError, match=r"^from_torch: sequential must be a torch.nn.Sequential, got Linear"
    ):
        from_torch(torch.nn.Linear(2, 1))
    with pytest.raises(TypeError, match=r"^to_torch: model must be an MLP, got str 'model'$"):
        to_torch("model")
    with pytest.raises(TypeError, match=r"^torch_gradients: sequential must be a torch.nn.Seq"):
        torch_gradients([torch.nn.Linear(2, 1)])
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        torch_loss("l1", torch.zeros(1, 1), [0.0])
    net = to_torch(MLP(1, [1]))
    with pytest.raises(ValueError, match="call backward"):
        torch_gradients(net)
