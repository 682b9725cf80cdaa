"""XOR: the smallest problem a single neuron cannot solve, learned by a tiny network.

The training loop is written out in full, in the notes' words:
forward pass -> error E -> backward pass (the blame of every weight) -> gradient descent.

Run:  python examples/xor.py
"""

import os

from autograd_lite.nn import MLP, SGD, data, half_sum_squared_error

FAST = os.environ.get("AUTOGRAD_LITE_FAST") == "1"  # the test suite asks for fewer steps
STEPS = 150 if FAST else 1500

# The four corners of the truth table: the target is 1 when exactly one input is 1.
points, targets = data.xor(labels=(0, 1))

# 2 inputs -> 4 hidden sigmoid neurons -> 1 sigmoid output neuron (a number in (0, 1)).
model = MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=1)
optimizer = SGD(model.parameters(), lr=2.0)

for step in range(STEPS):
    outputs = [model(x) for x in points]  # forward pass: one output Value per point
    error = half_sum_squared_error(outputs, targets)  # E = 1/2 * sum (target - output)^2
    optimizer.zero_grad()  # gradients add up across backward() calls: start from 0
    error.backward()  # backward pass: dE/dw for every weight and bias
    if step == 0:
        w = model.layers[1].neurons[0].w[0]
        print(f"step 0: E = {error.data:.4f}; the blame of {w.label} is dE/dw = {w.grad:+.4f}")
    optimizer.step()  # gradient descent: w = w - lr * dE/dw
    if (step + 1) % (STEPS // 5) == 0:
        print(f"step {step + 1:4d}: E = {error.data:.4f}")

print("\n x0  x1  target  output")
for x, target in zip(points, targets):
    print(f"{x[0]:3.0f} {x[1]:3.0f} {target:6d}  {model(x).data:.3f}")
