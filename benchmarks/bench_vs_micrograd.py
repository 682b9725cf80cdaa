"""autograd_lite against micrograd 0.1.0, on the same work, in one process.

    pip install micrograd==0.1.0
    python benchmarks/bench_vs_micrograd.py            # about a minute on a slow machine

Four measurements, printed as one table with both figures and their ratio:

1. one training step of the demo: 100 moons points, MLP(2, [16, 16, 1]) with relu, hinge
   loss + 1e-4 * L2, SGD update. Each library runs it its own natural way (autograd_lite:
   one ``weighted_sum`` node per neuron and n-ary sums; micrograd: a node per ``*`` and ``+``),
   from the same weights.
2. forward + backward of the same network built op by op: both libraries run the very same
   Python code, so they build the same graph, node for node.
3. a chain of 1,000,000 multiplications x = x * 1.0000001, forward + backward.
4. bytes per graph node, measured with tracemalloc while building the graph of 2.

Timings are the best of a few repeats, after ``gc.collect()``, with the two libraries
interleaved so that a noisy neighbour slows both. They are not tests: read the ratios.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
import tracemalloc
from collections.abc import Callable

from micrograd import nn as micrograd_nn
from micrograd.engine import Value as MicrogradValue

import autograd_lite
from autograd_lite import Value, topological_order
from autograd_lite.cli.options import positive_int
from autograd_lite.nn import MLP, SGD, data, hinge_loss, l2_penalty

SIZES = [16, 16, 1]
L2 = 1e-4
LR = 0.1  # a small step, so that repeated steps keep both models sensible


# --- the work ------------------------------------------------------------------------------


def twin_models(op_by_op: bool) -> tuple[MLP, micrograd_nn.MLP]:
    """An autograd_lite MLP and a micrograd MLP with the very same weights."""
    ours = MLP(2, SIZES, activation="relu", seed=0, op_by_op=op_by_op)
    theirs = micrograd_nn.MLP(2, SIZES)  # relu hidden layers, linear output, like ours
    for our_layer, their_layer in zip(ours.layers, theirs.layers):
        for our_neuron, their_neuron in zip(our_layer.neurons, their_layer.neurons):
            for our_w, their_w in zip(our_neuron.w, their_neuron.w):
                their_w.data = our_w.data
            their_neuron.b.data = our_neuron.b.data
    return ours, theirs


def plain_hinge_objective(model, inputs, targets) -> object:
    """The demo's loss written with plain operators only: runs on either library's Values."""
    scores = [model(x) for x in inputs]
    losses = [(1 + -y * score).relu() for y, score in zip(targets, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + L2 * sum(p * p for p in model.parameters())


def our_training_step(model: MLP, optimizer: SGD, points, targets) -> float:
    loss = hinge_loss([model(x) for x in points], targets) + l2_penalty(model.parameters(), L2)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data


def their_training_step(model: micrograd_nn.MLP, points, targets) -> float:
    inputs = [[MicrogradValue(x) for x in point] for point in points]
    loss = plain_hinge_objective(model, inputs, targets)
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= LR * p.grad
    return loss.data


def forward_backward(model, inputs, targets) -> object:
    loss = plain_hinge_objective(model, inputs, targets)
    loss.backward()
    return loss


def chain(value_type: type, length: int) -> tuple[float, float | str]:
    """Seconds for the forward pass, and for the backward pass or how it failed."""
    gc.collect()
    start = time.perf_counter()
    x = value_type(1.0)
    for _ in range(length):
        x = x * 1.0000001  # grows to e^0.1 over a million steps: no overflow
    forward = time.perf_counter() - start
    start = time.perf_counter()
    try:
        x.backward()
    except RecursionError:
        return forward, "backward failed: RecursionError"
    return forward, time.perf_counter() - start


# --- measuring -----------------------------------------------------------------------------


def timed(run: Callable[[], object]) -> float:
    gc.collect()  # start clean: no garbage of the previous run to collect on our clock
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def best_times(
    ours: Callable[[], object], theirs: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Best wall time of each, the two taking turns so that noise hits both."""
    our_times, their_times = [], []
    for _ in range(repeats):
        our_times.append(timed(ours))
        their_times.append(timed(theirs))
    return min(our_times), min(their_times)


def count_micrograd_nodes(root: MicrogradValue) -> int:
    seen, stack = {root}, [root]
    while stack:
        for child in stack.pop()._prev:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


def bytes_per_node(
    build: Callable[[], object], count: Callable[[object], int], parameters: int
) -> float:
    """Memory allocated while building a graph, divided by the number of new nodes."""
    gc.collect()
    tracemalloc.start()
    root = build()
    allocated, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return allocated / (count(root) - parameters)


# --- the table -----------------------------------------------------------------------------


def duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--repeats", type=positive_int, default=3, help="runs per timing (best kept)")
    add("--chain", type=positive_int, default=1_000_000, help="length of the chain")
    args = parser.parse_args()

    points, targets = data.moons(100, noise=0.1, seed=0)
    rows = []

    # 1. one demo training step
    ours, theirs = twin_models(op_by_op=False)
    optimizer = SGD(ours.parameters(), lr=LR)
    first_losses = (
        our_training_step(ours, optimizer, points, targets),
        their_training_step(theirs, points, targets),
    )
    ours, theirs = twin_models(op_by_op=False)
    optimizer = SGD(ours.parameters(), lr=LR)
    our_time, their_time = best_times(
        lambda: our_training_step(ours, optimizer, points, targets),
        lambda: their_training_step(theirs, points, targets),
        args.repeats,
    )
    ratio = their_time / our_time
    rows.append(
        ("1. demo training step", duration(our_time), duration(their_time),
         f"{ratio:.1f}x faster", f">= 20x: {verdict(ratio >= 20)}")
    )  # fmt: skip

    # 2. the same op-by-op graph, forward + backward
    ours, theirs = twin_models(op_by_op=True)
    our_inputs = [[Value(x) for x in point] for point in points]
    their_inputs = [[MicrogradValue(x) for x in point] for point in points]
    our_time, their_time = best_times(
        lambda: forward_backward(ours, our_inputs, targets),
        lambda: forward_backward(theirs, their_inputs, targets),
        args.repeats,
    )
    ratio = their_time / our_time
    rows.append(
        ("2. op-by-op forward+backward", duration(our_time), duration(their_time),
         f"{ratio:.1f}x faster", f">= 3x: {verdict(ratio >= 3)}")
    )  # fmt: skip

    # 4. memory per node of that graph (built without backward)
    our_bytes = bytes_per_node(
        lambda: plain_hinge_objective(ours, [[Value(x) for x in p] for p in points], targets),
        lambda root: len(topological_order(root)),
        len(ours.parameters()),
    )
    their_bytes = bytes_per_node(
        lambda: plain_hinge_objective(
            theirs, [[MicrogradValue(x) for x in p] for p in points], targets
        ),
        count_micrograd_nodes,
        len(theirs.parameters()),
    )

    # 3. the long chain: once each, it takes a while
    our_forward, our_backward = chain(Value, args.chain)
    their_forward, their_backward = chain(MicrogradValue, args.chain)
    ours_total = our_forward + our_backward
    if isinstance(their_backward, str):
        theirs_text, ratio_text = f"{duration(their_forward)}, then {their_backward}", "-"
    else:
        theirs_text = duration(their_forward + their_backward)
        ratio_text = f"{(their_forward + their_backward) / ours_total:.1f}x faster"
    rows.append(
        (f"3. chain of {args.chain:,} multiplications",
         f"{duration(our_forward)} + {duration(our_backward)}", theirs_text, ratio_text,
         "must run: met")
    )  # fmt: skip
    share = our_bytes / their_bytes
    rows.append(
        ("4. memory per graph node", f"{our_bytes:.0f} bytes", f"{their_bytes:.0f} bytes",
         f"{share:.2f} of it", f"<= 1/3: {verdict(share <= 1 / 3)}")
    )  # fmt: skip

    print(
        f"autograd_lite {autograd_lite.__version__} vs micrograd 0.1.0 -- Python "
        f"{platform.python_version()}, {platform.machine()}, best of {args.repeats} "
        f"(chain: 1 run), interleaved"
    )
    print(
        f"first demo step: loss {first_losses[0]:.10f} (autograd_lite) vs "
        f"{first_losses[1]:.10f} (micrograd): the same work"
    )
    header = ("measure", "autograd_lite", "micrograd", "ratio", "target")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
