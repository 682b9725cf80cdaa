"""Three spiral arms: a network with 3 outputs learns which arm a point belongs to.

For several classes the last layer has one output per class (a "logit"); softmax turns
them into probabilities and the softmax cross-entropy loss rewards a high probability for
the true class. Training uses mini-batches of 30 points and Adam.

Run:  python examples/spiral.py
"""

import os

from autograd_lite import no_grad
from autograd_lite.nn import MLP, Adam, data, softmax
from autograd_lite.training import decision_map, decision_map_legend, evaluate, fit

FAST = os.environ.get("AUTOGRAD_LITE_FAST") == "1"  # the test suite asks for fewer steps
EPOCHS = 3 if FAST else 40

# 40 points per arm, 3 arms; targets are the arm numbers 0, 1, 2
points, targets = data.spiral(40, classes=3, noise=0.2, seed=0)

# 2 inputs -> 16 relu -> 16 relu -> 3 linear outputs, one score per class
model = MLP(2, [16, 16, 3], activation="relu", seed=0)

fit(
    model,
    points,
    targets,
    loss="softmax_cross_entropy",
    optimizer=Adam(model.parameters(), lr=0.05),
    epochs=EPOCHS,
    batch_size=30,  # 4 steps per pass over the 120 points, each on a different shuffle
    description="spiral",
)
loss, accuracy = evaluate(model, points, targets, loss="softmax_cross_entropy")
print(f"all {len(points)} points: loss {loss:.4f}, accuracy {accuracy:.0%}")

# The class probabilities of one point
with no_grad():
    probabilities = softmax(model(points[0]))
print(
    f"point {points[0][0]:+.2f}, {points[0][1]:+.2f} is class {targets[0]}; the network says",
    ", ".join(f"class {k}: {p.data:.0%}" for k, p in enumerate(probabilities)),
)

# Regions: '.' class 0, blank class 1, '-' class 2; points: o, x, * for classes 0, 1, 2
print(decision_map(model, points, targets))
print(decision_map_legend(targets))
