"""Regression: a network learns the curve y = sin(x) from 40 noisy samples.

Uses the training helper `fit`, which runs the loop (forward, loss, backward, step) and
shows a progress bar, and the Adam optimizer.

Run:  python examples/regression.py
"""

import math
import os

from autograd_lite import no_grad
from autograd_lite.nn import MLP, Adam, data
from autograd_lite.training import fit

FAST = os.environ.get("AUTOGRAD_LITE_FAST") == "1"  # the test suite asks for fewer steps
EPOCHS = 20 if FAST else 150

# 40 evenly spaced x in [-pi, pi]; targets sin(x) plus a little noise
points, targets = data.sine(40, noise=0.05, seed=0)

# 1 input -> two tanh layers of 16 -> 1 linear output (any real number)
model = MLP(1, [16, 16, 1], activation="tanh", seed=0)

# Adam adapts the step size of every weight; "mse" is the mean of (output - target)^2
history = fit(
    model,
    points,
    targets,
    loss="mse",
    optimizer=Adam(model.parameters(), lr=0.02),
    epochs=EPOCHS,
    description="sine",
)
print(f"mean squared error: first step {history.loss[0]:.4f}, last step {history.loss[-1]:.4f}")

# Compare with the true curve, including x between the training points.
print("\n     x   sin(x)  network")
with no_grad():  # just evaluating: no graph needed
    for i in range(9):
        x = -3.0 + 0.75 * i
        print(f"{x:6.2f}  {math.sin(x):7.3f}  {model([x]).data:7.3f}")
