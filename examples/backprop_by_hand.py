"""Backpropagation by hand: the notes' 2-2-2 sigmoid network, one learning step, every number.

    python examples/backprop_by_hand.py            # Unicode: ∂, ×, σ
    python examples/backprop_by_hand.py --ascii    # plain ASCII: d, *, sigma

The numbers are those of the classic worked example (inputs 0.05 and 0.10, targets 0.01
and 0.99, weights 0.15 ... 0.55, biases 0.35 and 0.60), so you can put this output next to
the walk-through you are reading and compare, number by number. It shows:

1. the forward pass, node by node: z = w·a_in + b, then a = σ(z), then the error E;
2. the backward pass, one chain-rule application per line, in the order backward() uses;
3. every weight's gradient as one chain of local derivatives (the notes' formulas A and B);
4. one gradient-descent update, w_new = w_old − learning_rate × ∂E/∂w;
5. the error before and after that update.
"""

import sys

from autograd_lite import no_grad
from autograd_lite.narrate import (
    describe_forward,
    describe_step,
    explain,
    node_names,
    to_ascii,
)
from autograd_lite.nn.worked import LEARNING_RATE  # the walk-through's, 0.5
from autograd_lite.stepping import backprop_example, forward_steps

ASCII = "--ascii" in sys.argv[1:]


def say(text=""):
    print(to_ascii(text) if ASCII else text)


example = backprop_example()  # the 2-2-2 network, one forward pass and E = Σ ½ (t − a)²
model, error = example.model, example.error
names = node_names(error)  # what to call every node (E for the error)

say("1. Forward pass: each neuron computes z = w·a_in + b, then its activation a = σ(z)")
for step in forward_steps(error):
    say("   " + describe_forward(step.node, names=names))
error_before = error.data
say(f"   The error before learning: E = {error_before:.9f}")

say()
say("2. Backward pass: each line is one application of the chain rule,")
say("   ∂E/∂input += ∂E/∂node × ∂node/∂input   (blame from above × local derivative).")
say("   Steps into the constants (0.5, 2) and the targets (t0, t1) are computed too, but")
say("   nothing uses those gradients: they are not shown (backward_steps(show_constants=True)).")
for step in error.backward_steps():  # the same steps, in the same order, as error.backward()
    say(f"   {step.number + 1:>2}. " + describe_step(step, names=names))

say()
say("3. Each gradient as a chain of local derivatives")
say()
say(explain(error))

say()
say("4. One step of gradient descent: w_new = w_old − learning_rate × ∂E/∂w")
say(f"   (learning_rate = {LEARNING_RATE})")
weights_only = {}  # the walk-through changes only the weights; kept to compare at the end
with no_grad():  # updating numbers, not building a graph
    for p in model.parameters():
        new = p.data - LEARNING_RATE * p.grad
        gradient = f"{p.grad:.9f}" if p.grad >= 0 else f"({p.grad:.9f})"
        say(f"   {p.label:<9} {p.data:.9f} − {LEARNING_RATE} × {gradient} = {new:.9f}")
        if ".w" in p.label:
            weights_only[p.label] = new
        p.data = new

say()
say("5. The error before and after")
error_after = example.forward().data
say(f"   E before = {error_before:.9f}")
say(f"   E after  = {error_after:.9f}   (weights and biases updated)")

# The classic walk-through updates the weights but keeps the biases: do the same to compare.
same_as_walkthrough = backprop_example()
for p in same_as_walkthrough.model.parameters():
    p.data = weights_only.get(p.label, p.data)
say(
    f"   E after  = {same_as_walkthrough.forward().data:.9f}   "
    "(weights only, biases kept, as in the walk-through;"
)
say("                           it rounds along the way and reports 0.291027924)")
