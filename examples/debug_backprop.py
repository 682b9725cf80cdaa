"""Why does my network not learn? Debugging backpropagation with hooks, breakpoints, anomalies.

Run it under the debugger, from the repository root:

    python -m pdb examples/debug_backprop.py

or open it in an IDE and put breakpoints on the lines marked  # BREAKPOINT. In pdb:
b LINE sets a breakpoint at a line of this file, c continues to the next stop, n runs one
line, s steps into a call, p EXPR prints, q quits. Run plainly (python
examples/debug_backprop.py) it prints what you would look at.

The story: a 2-2-1 relu network where hidden neuron L0.n1 is "dead": its weighted input z
is negative, so relu outputs 0 and its slope ∂a/∂z is 0. The chain rule multiplies by that
0, so none of its weights gets any blame (gradient), and they never learn.
"""

import sys

from autograd_lite import AnomalyError, Value, detect_anomaly
from autograd_lite.engine import DERIVATIVES
from autograd_lite.nn import MLP
from autograd_lite.stepping import labelled_error

# In a terminal (and under pdb) a breakpoint opens the debugger; with no terminal (a pipe,
# a test, stdin closed) the same places just print what they would have shown.
INTERACTIVE = sys.stdin is not None and sys.stdin.isatty()

model = MLP(2, [2, 1], activation="relu", output_activation="linear")
weights = {
    "L0.n0.w0": 0.5, "L0.n0.w1": -0.3, "L0.n0.b": 0.1,    # a healthy neuron
    "L0.n1.w0": -0.8, "L0.n1.w1": -0.6, "L0.n1.b": -0.2,  # dead for positive inputs
    "L1.n0.w0": 0.7, "L1.n0.w1": 0.9, "L1.n0.b": 0.0,
}  # fmt: skip
for p in model.parameters():
    p.data = weights[p.label]

# --- 1. The forward pass -------------------------------------------------------------------
# Local derivatives are computed here, in the forward pass. Every derivative rule is a named
# function (DERIVATIVES maps op names to them). Stop on the next line, then set a breakpoint
# on relu's rule and continue:   (Pdb) b Value.relu_rule   (Pdb) c   (Pdb) p x, out
# The first stop is the healthy neuron (x = 0.45); c again shows the dead one (x = -1.3).
output = model([1.0, 0.5])  # BREAKPOINT
error = labelled_error(output, 1.0)
dead = model.layers[0].neurons[1]
# Look at the dead neuron; repr shows label, op, data and grad:   (Pdb) p dead.z, dead.a
print("1. forward pass:", repr(dead.z), repr(dead.a), sep="\n   ")
print("   relu's rule at that z gives ∂a/∂z =", DERIVATIVES["relu"](dead.z.data, 0.0))  # BREAKPOINT

# --- 2. Hooks: see each gradient the moment it is complete ----------------------------------
# A hook is called with the node as soon as its gradient is final (every node that uses it
# has passed its blame down). Here: the hidden activations and weighted inputs.
hooked = [n.a for n in model.layers[0].neurons] + [n.z for n in model.layers[0].neurons]
handles = [v.register_hook(lambda v: print(f"   hook: {v.label}.grad = {v.grad:.4g}"))
           for v in hooked]  # fmt: skip
print("2. backward pass with hooks:")
error.backward()
for handle in handles:
    handle.remove()  # hooks stay until removed; the next backward() runs without them
print("   the dead neuron's weights:", [f"{w.label}.grad = {w.grad}" for w in dead.w])
model.zero_grad()


# --- 3. Stop right before the step that cuts the blame --------------------------------------
# break_on takes a Value, a label, or a function of the step; by default it opens pdb right
# before that step is applied, with the step in scope. In pdb, look at:
#   (Pdb) p step                  the whole step: node, input, local_grad, upstream, ...
#   (Pdb) p step.upstream         ∂E/∂a of the dead neuron: blame did arrive
#   (Pdb) p step.local_grad       ∂a/∂z = 0: relu's slope where z < 0
#   (Pdb) p step.input.grad       still 0.0: the step is not applied yet
#   (Pdb) c                       continue to the end
def cuts_the_blame(step):
    return step.node.op == "relu" and step.local_grad == 0.0


def show(step):  # what the breakpoint shows when there is no terminal to debug in
    print(f"   stopped before step {step.number}: {step}")
    print(f"   upstream {step.upstream:.4g} x local {step.local_grad} = {step.contribution}")


print("3. break_on: the step where relu passes zero blame")
error.backward(break_on=cuts_the_blame, on_break=None if INTERACTIVE else show)  # BREAKPOINT
model.zero_grad()


# --- 4. detect_anomaly: where did the NaN come from? -----------------------------------------
# A weight-size penalty written as sqrt(w·w) has an infinite slope at w = 0, and inf × 0 is
# NaN: the gradient silently becomes nan, and then so does every weight it updates.
def size_penalty(w):
    square = w * w
    square.label = "w*w"
    return square.sqrt()


w = Value(0.0, label="w")
size_penalty(w).backward()
print("4. without detect_anomaly: w.grad =", w.grad)
w.grad = 0.0
with detect_anomaly():  # names the op, its inputs and the line that made the node
    penalty = size_penalty(w)
    try:
        penalty.backward()  # BREAKPOINT: step over this line and read the error
    except AnomalyError as anomaly:
        print("   with detect_anomaly():", anomaly)

# --- 5. The fix for the dead neuron: leaky_relu keeps a small slope where z < 0 -------------
fixed = MLP(2, [2, 1], activation="leaky_relu", output_activation="linear")
for p in fixed.parameters():
    p.data = weights[p.label]
labelled_error(fixed([1.0, 0.5]), 1.0).backward()
revived = fixed.layers[0].neurons[1]
print("5. with leaky_relu:", [f"{w.label}.grad = {w.grad:.4g}" for w in revived.w])
