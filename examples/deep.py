"""A deep network: 25 layers (24 hidden layers of 8 neurons) that still learns.

Depth makes the backward pass multiply many local derivatives together. With sigmoid,
each one is at most 0.25, so the blame reaching the first layers all but vanishes and
they never learn. tanh (slope up to 1) with Glorot initialisation keeps it alive.

We measure each layer's gradient norm sqrt(sum (dE/dw)^2) in both networks, then train
both on XOR.

Run:  python examples/deep.py
"""

import math
import os

from autograd_lite.nn import MLP, Adam, data
from autograd_lite.training import fit, forward_pass

FAST = os.environ.get("AUTOGRAD_LITE_FAST") == "1"  # the test suite asks for fewer steps
EPOCHS = 20 if FAST else 150
HIDDEN = [8] * 24  # 24 hidden layers + the output layer = 25 layers

points, targets = data.xor(labels=(0, 1))


def gradient_norms(model):
    """One forward and backward pass; then the size of each layer's gradient."""
    loss, _ = forward_pass(model, points, targets, loss="bce_with_logits")
    model.zero_grad()
    loss.backward()
    return [math.sqrt(sum(w.grad**2 for w in layer.parameters())) for layer in model.layers]


networks = {
    "sigmoid": MLP(2, [*HIDDEN, 1], activation="sigmoid", seed=0),
    "tanh": MLP(2, [*HIDDEN, 1], activation="tanh", seed=0),
}

shown = range(0, len(HIDDEN) + 1, 4)  # every 4th layer, from the first to the output layer
print("gradient norm of layers before training:")
print("  layer   ", " ".join(f"{layer:>5d}" for layer in shown))
for name, model in networks.items():
    norms = gradient_norms(model)
    print(f"  {name:8s}", " ".join(f"{norms[layer]:5.0e}" for layer in shown))

# Binary cross-entropy on the output before a sigmoid (a "logit"): stable, and its
# gradient does not vanish when the output is confidently wrong.
for name, model in networks.items():
    history = fit(
        model,
        points,
        targets,
        loss="bce_with_logits",
        optimizer=Adam(model.parameters(), lr=0.003),
        epochs=EPOCHS,
        progress=False,
    )
    print(
        f"{name:8s} after {EPOCHS} steps: loss {history.loss[-1]:.4f}, "
        f"accuracy {history.accuracy[-1]:.0%}"
    )
