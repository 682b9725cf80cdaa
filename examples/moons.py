"""Two moons: a curved boundary between two classes, learned with the hinge loss.

This is what `autograd-lite demo` does, with the loop written out. Then the model is saved
to JSON, loaded back, and gives the same answers.

Run:  python examples/moons.py
"""

import os
import tempfile
from pathlib import Path

from autograd_lite import no_grad
from autograd_lite.nn import MLP, SGD, binary_accuracy, data, hinge_loss, l2_penalty
from autograd_lite.training import decision_map

FAST = os.environ.get("AUTOGRAD_LITE_FAST") == "1"  # the test suite asks for fewer steps
STEPS = 10 if FAST else 60

# 100 points; targets -1 (upper moon) and +1 (lower moon), the labels the hinge loss uses.
points, targets = data.moons(40 if FAST else 100, noise=0.1, seed=0)

# relu hidden layers (He initialisation), one linear output: a score, its sign is the class.
model = MLP(2, [16, 16, 1], activation="relu", seed=0)

# The learning rate falls from 1.0 to 0.1: big steps first, careful steps at the end.
optimizer = SGD(model.parameters(), lr=lambda step: 1.0 - 0.9 * step / STEPS)

for step in range(STEPS):
    scores = [model(x) for x in points]
    # hinge: mean of max(0, 1 - target * score), zero once a point is right by a margin of 1;
    # the L2 penalty keeps the weights small, so the boundary stays smooth
    loss = hinge_loss(scores, targets) + l2_penalty(model.parameters(), 1e-4)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 10 == 0 or step == STEPS - 1:
        accuracy = binary_accuracy(scores, targets)
        print(f"step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}")

# '.' is where the model says -1, blank where it says +1; o and x are the true classes.
print(decision_map(model, points, targets))

# Save as JSON (architecture + weights), load it back: same scores.
with tempfile.TemporaryDirectory() as folder:
    path = model.save(Path(folder) / "moons.json")
    loaded = MLP.load(path)
with no_grad():  # just evaluating: no graph needed
    same = all(model(x).data == loaded(x).data for x in points)
print(f"saved and loaded {path.name}; the loaded model gives the same scores: {same}")
