"""A deep network: 25 layers (24 hidden layers of 8 neurons) that still learns XOR.

Depth makes the backward pass multiply many local derivatives together. With sigmoid,
each one is at most 0.25, so the blame reaching the first layers all but vanishes and
they never learn. tanh (slope up to 1) with Glorot initialisation keeps it alive.

We measure each layer's gradient norm sqrt(sum (dE/dw)^2) in both networks, then train
both on XOR. The inputs are centred (-1 and +1 instead of 0 and 1), as tanh is: with
inputs of 0, a deep tanh network starts with every first-layer neuron near 0 and learns
only from some seeds.

Run:  python examples/deep.py
"""

import math
import os

from autograd_lite.nn import MLP, Adam, data
from autograd_lite.training import evaluate, fit, forward_pass

FAST = os.environ.get("AUTOGRAD_LITE_FAST") == "1"  # the test suite asks for fewer steps
EPOCHS = 100
# the sigmoid network's failure shows in its gradients; the test suite trains it briefly
SIGMOID_EPOCHS = 20 if FAST else EPOCHS
HIDDEN = [8] * 24  # 24 hidden layers + the output layer = 25 layers

corners, targets = data.xor(labels=(0, 1))
points = [[2.0 * x - 1.0 for x in corner] for corner in corners]  # 0, 1 -> -1, +1


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
    epochs = SIGMOID_EPOCHS if name == "sigmoid" else EPOCHS
    fit(
        model,
        points,
        targets,
        loss="bce_with_logits",
        optimizer=Adam(model.parameters(), lr=0.003),
        epochs=epochs,
        progress=False,
    )
    loss, accuracy = evaluate(model, points, targets, loss="bce_with_logits")
    print(f"{name:8s} after {epochs} steps: loss {loss:.4f}, accuracy {accuracy:.0%}")
