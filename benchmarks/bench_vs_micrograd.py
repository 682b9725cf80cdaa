"""autograd_lite against micrograd 0.1.0, on the same work, in one process.

    pip install micrograd==0.1.0
    python benchmarks/bench_vs_micrograd.py            # a few minutes on a busy machine

What is measured (``MLP(2, [16, 16, 1])`` with relu, 100 moons points, as in the demo):

1. one training step of the demo: hinge loss + 1e-4 * L2, SGD update, accuracy. Each
   library runs it its own natural way, from the same weights: autograd_lite is ``fit()``
   itself (full batch, as the demo calls it: one ``weighted_sum`` node per neuron, n-ary
   sums; its data checks, divergence checks and history included), micrograd its demo
   notebook's ``loss()`` and update (a node per ``*`` and ``+``). Timed over 2 steps.
2. op by op, one sample at a time: forward + backward of the same network on one sample,
   30 samples in a row. Both libraries run the very same Python code, so they build the
   same graph, node for node.
3. backward alone, on the op-by-op graph of all 100 samples.
4. a chain of 1,000,000 multiplications x = x * 1.0000001, forward + backward (must run).
5. bytes per graph node, measured with tracemalloc while building the graph of 2.

Each timing is printed twice: as users run each library (micrograd with the cyclic garbage
collector on, as always; autograd_lite's demo step is ``fit()``, which pauses the
collector for each step), and with the collector paused for both. Paused, micrograd's
graphs (reference cycles) are never freed on its clock, so in row 2 both libraries keep
their graphs until the clock stops; in row 1 ``fit()`` frees each step's graph on our
clock. Each timing is the CPU time of this process over a few runs (three times as many
for the quick rows 2 and 3; the chain: one run, wall time), the two libraries taking
turns; ratios are micrograd's time over ours. By default the best run of each is kept, as
``timeit`` does: on a shared machine a neighbour only ever adds time (it takes the caches
and the memory bus even from CPU time), so the fastest run is the truest measure of the
code, for both libraries alike. ``--statistic median`` keeps the median instead. They are
not tests: read the ratios. The profile of our demo step and of the op-by-op work follows
the table.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import statistics
import time
import tracemalloc
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from micrograd import nn as micrograd_nn
from micrograd.engine import Value as MicrogradValue

import autograd_lite
from autograd_lite import Value, topological_order
from autograd_lite.cli.options import positive_int
from autograd_lite.nn import MLP, SGD, data
from autograd_lite.training import collector_paused, fit

SIZES = [16, 16, 1]
L2 = 1e-4
LR = 0.1  # a small step, so that repeated steps keep both models sensible
ONE_BY_ONE = 30  # samples in a row for the op-by-op measurement
QUICK_ROWS_REPEAT = 3  # rows 2 and 3 are quick: three times the runs, less noise
DEMO_STEPS = 2  # training steps per timed run of the demo (fit()'s checks shared by them)


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


def our_training_steps(model: MLP, optimizer: SGD, points, targets, steps: int) -> float:
    """``steps`` steps of the demo as a user runs them: ``fit()`` itself (it pauses the
    collector for each step; its one-time data checks are shared by the steps)."""
    history = fit(
        model, points, targets, loss="hinge", optimizer=optimizer, epochs=steps, l2=L2,
        progress=False,
    )  # fmt: skip
    return history.loss[0]


def their_training_step(model: micrograd_nn.MLP, points, targets) -> float:
    """One step of micrograd's demo notebook: its ``loss()``, ``backward()``, the update."""
    inputs = [[MicrogradValue(x) for x in point] for point in points]
    scores = list(map(model, inputs))
    losses = [(1 + -y * score).relu() for y, score in zip(targets, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    loss = data_loss + L2 * sum(p * p for p in model.parameters())
    accuracy = [(y > 0) == (score.data > 0) for y, score in zip(targets, scores)]
    sum(accuracy) / len(accuracy)
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= LR * p.grad
    return loss.data


def one_sample_at_a_time(model, value_type: type, points, targets, keep: bool = False) -> list:
    """Forward + backward on one sample, for each of the first ONE_BY_ONE samples. Each
    sample's graph is let go as the next one begins, as in a user's loop, or, with ``keep``,
    returned, so that it is freed after the clock stops (see ``timed``)."""
    kept = []
    for point, y in zip(points[:ONE_BY_ONE], targets[:ONE_BY_ONE]):
        score = model([value_type(x) for x in point])
        loss = (1 + -y * score).relu()
        loss.backward()
        if keep:
            kept.append(loss)
    return kept


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

Pause = Callable[[], AbstractContextManager]


def timed(run: Callable[[], object], pause: Pause) -> float:
    """CPU seconds of this process: on a shared machine, other programs count less. What
    ``run`` returns is freed after the clock stops."""
    gc.collect()  # start clean: no garbage of the previous run to collect on our clock
    with pause():
        start = time.process_time()
        built = run()
        seconds = time.process_time() - start
        del built
    return seconds


STATISTICS = {"best": min, "median": statistics.median}


def typical_times(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    repeats: int,
    our_pause: Pause,
    their_pause: Pause,
    statistic: Callable[[list[float]], float] = min,
) -> tuple[float, float]:
    """The best (or the median) CPU time of each, the two taking turns."""
    our_times, their_times = [], []
    for _ in range(repeats):
        our_times.append(timed(ours, our_pause))
        their_times.append(timed(theirs, their_pause))
    return statistic(our_times), statistic(their_times)


def per_step(times: tuple[float, float]) -> tuple[float, float]:
    return times[0] / DEMO_STEPS, times[1] / DEMO_STEPS


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


def profile(run: Callable[[], object], title: str, rows: int = 12) -> str:
    """The functions ``run`` spends its own time in, most first (cProfile, collector paused)."""
    profiler = cProfile.Profile()
    with collector_paused():
        profiler.runcall(run)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(rows)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join([f"profile of {title} (own time, most first):", *lines[start:]])


# --- the table -----------------------------------------------------------------------------


def duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        model = names[0] if names else model
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = ", load " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores{load}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def row(name: str, target: str, users: tuple[float, float], paused: tuple[float, float]):
    """One line of the table: both columns, each with both times and micrograd/ours."""
    cells = [name]
    for ours, theirs in (users, paused):
        cells.append(f"{duration(ours)} vs {duration(theirs)}: {theirs / ours:.1f}x")
    cells.append(target)
    return cells


def verdict(ratio: float, goal: float) -> str:
    return f">= {goal:g}x {'met' if ratio >= goal else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--repeats", type=positive_int, default=9, help="runs per timing")
    add("--statistic", choices=STATISTICS, default="best", help="which run is kept")
    add("--chain", type=positive_int, default=1_000_000, help="length of the chain")
    add("--no-profile", action="store_true", help="leave out the profiles")
    args = parser.parse_args()
    keep = STATISTICS[args.statistic]
    quick = QUICK_ROWS_REPEAT * args.repeats  # rows 2 and 3 take well under a second a run

    points, targets = data.moons(100, noise=0.1, seed=0)
    rows = []
    on, off = nullcontext, collector_paused

    # 1. one demo training step, fused: ours as fit() runs it (collector paused per step)
    ours, theirs = twin_models(op_by_op=False)
    optimizer = SGD(ours.parameters(), lr=LR)
    first_losses = (
        our_training_steps(ours, optimizer, points, targets, 1),
        their_training_step(theirs, points, targets),
    )
    ours, theirs = twin_models(op_by_op=False)
    optimizer = SGD(ours.parameters(), lr=LR)

    def our_step() -> float:
        return our_training_steps(ours, optimizer, points, targets, DEMO_STEPS)

    def their_step() -> float:
        for _ in range(DEMO_STEPS):
            loss = their_training_step(theirs, points, targets)
        return loss

    users = per_step(typical_times(our_step, their_step, args.repeats, on, on, keep))
    paused = per_step(typical_times(our_step, their_step, args.repeats, off, off, keep))
    rows.append(row("1. demo training step", verdict(users[1] / users[0], 40) + " (users)",
                    users, paused))  # fmt: skip

    # 2. op by op, one sample at a time: the same graph in both libraries
    our_net, their_net = twin_models(op_by_op=True)

    def samples(net: object, value_type: type, keep_graphs: bool) -> Callable[[], list]:
        return lambda: one_sample_at_a_time(net, value_type, points, targets, keep_graphs)

    # As users run them, each graph is freed as the next sample begins (micrograd's by its
    # collector). With the collector paused, micrograd's graphs (cycles) cannot be freed on
    # its clock at all; ours would be, by reference counting, so each run keeps its graphs
    # until the clock stops, for both: the column compares building and differentiating.
    users = typical_times(
        samples(our_net, Value, False), samples(their_net, MicrogradValue, False),
        quick, on, on, keep,
    )  # fmt: skip
    paused = typical_times(
        samples(our_net, Value, True), samples(their_net, MicrogradValue, True),
        quick, off, off, keep,
    )  # fmt: skip
    target = (
        f"{verdict(users[1] / users[0], 4)} (users), {verdict(paused[1] / paused[0], 1.8)} (paused)"
    )
    rows.append(row(f"2. op by op, {ONE_BY_ONE} single samples", target, users, paused))

    # 3. backward alone, on the op-by-op graph of every sample
    our_root = plain_hinge_objective(our_net, [[Value(x) for x in p] for p in points], targets)
    their_root = plain_hinge_objective(
        their_net, [[MicrogradValue(x) for x in p] for p in points], targets
    )
    users = typical_times(our_root.backward, their_root.backward, quick, on, on, keep)
    paused = typical_times(our_root.backward, their_root.backward, quick, off, off, keep)
    target = f"{verdict(users[1] / users[0], 1.5)} (users)"
    rows.append(row("3. backward alone (op-by-op graph)", target, users, paused))
    del our_root, their_root

    # 5. memory per node of that graph (built without backward)
    our_bytes = bytes_per_node(
        lambda: plain_hinge_objective(our_net, [[Value(x) for x in p] for p in points], targets),
        lambda root: len(topological_order(root)),
        len(our_net.parameters()),
    )
    their_bytes = bytes_per_node(
        lambda: plain_hinge_objective(
            their_net, [[MicrogradValue(x) for x in p] for p in points], targets
        ),
        count_micrograd_nodes,
        len(their_net.parameters()),
    )

    # 4. the long chain: once each, as users run it, it takes a while
    our_forward, our_backward = chain(Value, args.chain)
    their_forward, their_backward = chain(MicrogradValue, args.chain)
    if isinstance(their_backward, str):
        theirs_text = f"{duration(their_forward)}, then {their_backward}"
    else:
        ratio = (their_forward + their_backward) / (our_forward + our_backward)
        theirs_text = f"{duration(their_forward + their_backward)}: {ratio:.1f}x"
    rows.append(
        [f"4. chain of {args.chain:,} multiplications",
         f"{duration(our_forward)} + {duration(our_backward)} vs {theirs_text}", "-",
         "must run: met"]
    )  # fmt: skip
    share = our_bytes / their_bytes
    rows.append(
        ["5. memory per graph node", f"{our_bytes:.0f} vs {their_bytes:.0f} bytes", "-",
         f"{share:.2f} of it, <= 1/3 {'met' if share <= 1 / 3 else 'MISSED'}"]
    )  # fmt: skip

    print(f"autograd_lite {autograd_lite.__version__} vs micrograd 0.1.0, in one process")
    print(f"machine: {machine()}")
    print(
        f"CPU time, the {args.statistic} of {args.repeats} interleaved runs (rows 2 and 3: "
        f"{quick}; chain: one run, wall time); each cell: autograd_lite vs micrograd: "
        "micrograd's time / ours"
    )
    print(
        f"first demo step: loss {first_losses[0]:.10f} (autograd_lite) vs "
        f"{first_losses[1]:.10f} (micrograd): the same work"
    )
    header = ["measure", "as users run them", "collector paused for both", "target"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for cells in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)).rstrip())
    if not args.no_profile:
        print()
        print(profile(our_step, "autograd_lite's demo step"))
        print()
        title = f"autograd_lite op by op, {ONE_BY_ONE} single samples"
        print(profile(samples(our_net, Value, False), title))


if __name__ == "__main__":
    main()
