"""Graduate to PyTorch: the same network, the same numbers, a faster engine.

The demo's network (2 inputs -> 16 relu -> 16 relu -> 1 score, hinge loss + 1e-4 x L2, on
100 "moons" points) trains a few steps here, where every weight is a Value. Then
``to_torch`` carries it to a ``torch.nn.Sequential`` in float64 with the same weights, and
PyTorch computes the first step's gradients on its own: they equal the engine's, weight by
weight. Training goes on there; ``from_torch`` brings the result back, and the engine
gives the same predictions as PyTorch.

Needs PyTorch:  pip install ".[torch]"
Run:  python examples/graduate_to_pytorch.py
"""

import os

import torch

from autograd_lite.nn import MLP, SGD, data, hinge_loss, l2_penalty
from autograd_lite.nn.metrics import binary_accuracy
from autograd_lite.torch_bridge import from_torch, to_torch, torch_gradients, torch_loss
from autograd_lite.training import fit

FAST = os.environ.get("AUTOGRAD_LITE_FAST") == "1"  # the test suite asks for fewer steps
STEPS_HERE = 5 if FAST else 20
STEPS_THERE = 40 if FAST else 300
LR, L2 = 0.5, 1e-4  # SGD's learning rate here and there, and the L2 strength

points, targets = data.moons(100, noise=0.1, seed=0)  # targets -1 / +1
model = MLP(2, [16, 16, 1], activation="relu", seed=0)


def engine_loss():
    """Forward pass in the engine: one Value per number."""
    scores = [model(x) for x in points]
    return hinge_loss(scores, targets) + l2_penalty(model.parameters(), L2), scores


# 1. A few steps here: fit runs the loop (the same loss: hinge + L2) and shows us each step
def show_first(step):
    if step.step == 0:
        print(f"here, step 0: loss {step.loss:.4f}")


optimizer = SGD(model.parameters(), lr=LR)
fit(model, points, targets, loss="hinge", l2=L2, optimizer=optimizer, epochs=STEPS_HERE,
    progress=False, on_step=show_first)  # fmt: skip
loss, scores = engine_loss()
print(f"here, after {STEPS_HERE} steps: loss {loss.data:.6f}")

# 2. Carry it over: the same weights in a torch.nn.Sequential (float64)
net = to_torch(model)
print(f"\ncarried to PyTorch:\n{net}")
inputs = torch.tensor(points, dtype=torch.float64)


def torch_total(net):
    """The same loss in PyTorch: hinge (torch ops) + 1e-4 x the sum of squared weights."""
    penalty = sum((p**2).sum() for p in net.parameters())
    return torch_loss("hinge", net(inputs), targets) + L2 * penalty


# 3. The first step there: PyTorch's gradients equal the engine's, weight by weight
total = torch_total(net)
total.backward()
optimizer.zero_grad()
loss.backward()  # the engine's gradients at the same weights
there = torch_gradients(net)
differences = {p.label: abs(p.grad - there[p.label]) for p in model.parameters()}
print(f"\nloss at the same weights: engine {loss.data:.15f}, PyTorch {total.item():.15f}")
print("first step's gradients, a few of them:")
print(f"  {'weight':<10} {'engine (∂E/∂w)':>22} {'PyTorch (.grad)':>22}")
for p in model.parameters()[::60]:
    print(f"  {p.label:<10} {p.grad:>22.15f} {there[p.label]:>22.15f}")
worst = max(differences, key=differences.get)
print(
    f"largest difference over all {len(differences)} weights and biases: "
    f"{differences[worst]:.1e} ({worst})"
)

# 4. Training goes on in PyTorch, from that same first step
torch_optimizer = torch.optim.SGD(net.parameters(), lr=LR)
for step in range(STEPS_THERE):
    if step:  # step 0's gradients are the ones compared above
        torch_optimizer.zero_grad()
        total = torch_total(net)
        total.backward()
    torch_optimizer.step()
final = torch_total(net).item()
torch_accuracy = (
    ((net(inputs).squeeze(1) > 0).double() * 2 - 1)
    .eq(torch.tensor(targets, dtype=torch.float64))
    .double()
    .mean()
    .item()
)
print(f"\nPyTorch, after {STEPS_THERE} more steps: loss {final:.6f}, accuracy {torch_accuracy:.0%}")

# 5. And back: the engine agrees with PyTorch on every point
back = from_torch(net)
scores_back = [back(x) for x in points]
engine_accuracy = binary_accuracy(scores_back, targets)
largest = max(abs(s.data - t) for s, t in zip(scores_back, net(inputs).squeeze(1).tolist()))
print(
    f"carried back with from_torch: accuracy {engine_accuracy:.0%} in the engine too "
    f"(scores differ by at most {largest:.1e})"
)
