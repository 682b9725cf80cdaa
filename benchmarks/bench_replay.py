"""Traced programs replayed by each backend, against micrograd 0.1.0 and PyTorch, in one run.

    pip install micrograd==0.1.0 numpy         # torch too, for its rows (optional)
    python benchmarks/bench_replay.py          # about a minute; --rounds N for more

What it measures (every row is the median step time over rounds; in each round every
contender runs a block of back-to-back steps, as a training loop does, the contenders
taking turns so that a noisy neighbour slows all of them):

1. one training step of the demo: MLP(2, [16, 16, 1]) with relu, 100 moons points, hinge
   loss + 1e-4 * L2, full batch, SGD update -- micrograd as its README writes it, the
   engine, the python / numpy / c replays of the traced step, PyTorch with batched float64
   tensors. Each is timed twice: as a user runs it (the garbage collector on) and with the
   collector paused during its steps (a collection before each block, off the clock). The ratio
   column compares with micrograd measured the same way in the same run.
2. MLP(64, [128, 128, 10]) on a batch of 100, mean squared error: numpy and c replays
   against PyTorch batched float64.
3. trace + build: seconds from a built graph to a replay ready to run (the engine's forward
   pass that builds the graph is shown apart; the c backend's one-time compile is excluded).
4. memory per node: the bytes a replay holds -- its program (what ``trace`` reads off the
   graph) and its own arrays -- divided by the graph's nodes (tracemalloc), beside the
   engine's and micrograd's bytes per node of the graph itself.

Timings are not tests: read the ratios, which hold better than the absolute figures. On a
busy machine, multi-threaded libraries (PyTorch, NumPy's BLAS) can lose most of their time
waiting for cores: PyTorch is shown on its default threads and on one; run with
OPENBLAS_NUM_THREADS=1 to give NumPy one thread too (the machine line shows it).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable

from bench_vs_micrograd import count_micrograd_nodes  # this folder: the script's own
from micrograd import nn as micrograd_nn
from micrograd.engine import Value as MicrogradValue

from autograd_lite import Value
from autograd_lite.nn import MLP, SGD, data
from autograd_lite.nn.losses import hinge_loss, l2_penalty, mean_squared_error
from autograd_lite.program import BackendUnavailableError, replay, trace
from autograd_lite.program.c_backend import build_interpreter, find_compiler

try:
    import torch
except ImportError:
    torch = None
try:
    import numpy
except ImportError:
    numpy = None

L2 = 1e-4
LR = 0.05  # small steps: repeated steps keep every model sensible


# --- the demo step, each contender its own natural way -------------------------------------


def demo_data() -> tuple[list, list]:
    return data.moons(100, 0.1, 0)


def our_model(sizes=(16, 16, 1), nin=2) -> MLP:
    return MLP(nin, list(sizes), activation="relu", seed=0)


def micrograd_step(model: micrograd_nn.MLP, points, targets) -> Callable[[], float]:
    """The loss of micrograd's README demo (hinge + L2), with a plain SGD update."""

    def step() -> float:
        inputs = [[MicrogradValue(x) for x in point] for point in points]
        scores = [model(x) for x in inputs]
        losses = [(1 + -y * score).relu() for y, score in zip(targets, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + L2 * sum(p * p for p in model.parameters())
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= LR * p.grad
        return loss.data

    return step


def twin_micrograd(ours: MLP) -> micrograd_nn.MLP:
    theirs = micrograd_nn.MLP(ours.nin, ours.nouts)
    for our_layer, their_layer in zip(ours.layers, theirs.layers):
        for our_neuron, their_neuron in zip(our_layer.neurons, their_layer.neurons):
            for our_w, their_w in zip(our_neuron.w, their_neuron.w):
                their_w.data = our_w.data
            their_neuron.b.data = our_neuron.b.data
    return theirs


def engine_step(model: MLP, points, targets) -> Callable[[], float]:
    optimizer = SGD(model.parameters(), lr=LR)

    def step() -> float:
        loss = hinge_loss([model(x) for x in points], targets) + l2_penalty(model.parameters(), L2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.data

    return step


def traced_demo(model: MLP, points, targets):
    """(program, feed): the demo's loss traced with the samples as fed inputs."""
    samples = [[Value(v, f"x{i}") for i, v in enumerate(p)] for p in points]
    loss = hinge_loss([model(x) for x in samples], targets) + l2_penalty(model.parameters(), L2)
    program = trace(loss, params=model.parameters(), inputs=[v for s in samples for v in s])
    return program, [v for p in points for v in p]


def replay_step(program, feed, backend: str) -> Callable[[], float]:
    """A replayed step: run the program, then w = w - lr * dE/dw (lists of floats; NumPy
    arrays for the numpy backend, which takes and gives arrays)."""
    runner = replay(program, backend)
    if backend == "numpy":
        feed, params = numpy.array(feed), numpy.array(runner.params)

        def step() -> float:
            nonlocal params
            result = runner.run(feed, params)
            params = params - LR * result.gradients
            return result.loss

        return step
    params = list(runner.params)

    def step() -> float:
        result = runner.run(feed, params)
        params[:] = [w - LR * g for w, g in zip(params, result.gradients)]
        return result.loss

    return step


def torch_contenders(layers_of: Callable[[], object], x, loss_of) -> dict:
    """PyTorch as a user runs it (its default threads), and on one thread like the rest."""
    threads = torch.get_num_threads()

    def on_threads(count: int, step: Callable[[], float]) -> Callable[[], float]:
        def run() -> float:
            torch.set_num_threads(count)
            try:
                return step()
            finally:
                torch.set_num_threads(threads)

        return run

    return {
        f"PyTorch batched float64 ({threads} threads)": torch_step(layers_of(), x, loss_of),
        "PyTorch batched float64 (1 thread)": on_threads(1, torch_step(layers_of(), x, loss_of)),
    }


def torch_model(ours: MLP):
    """Weight matrices of ``ours`` as float64 tensors that require gradients."""
    layers = []
    for layer in ours.layers:
        w = torch.tensor([[p.data for p in n.w] for n in layer.neurons], dtype=torch.float64)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64)
        layers.append((w.requires_grad_(), b.requires_grad_()))
    return layers


def torch_forward(layers, x):
    for k, (w, b) in enumerate(layers):
        x = x @ w.T + b
        if k < len(layers) - 1:
            x = torch.relu(x)
    return x


def torch_step(layers, x, loss_of) -> Callable[[], float]:
    params = [t for pair in layers for t in pair]

    def step() -> float:
        loss = loss_of(torch_forward(layers, x), params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss.item()

    return step


# --- measuring -----------------------------------------------------------------------------


def timed_block(step: Callable[[], object], pause_gc: bool, count: int) -> list[float]:
    """Seconds of each of ``count`` back-to-back steps, as a training loop runs them."""
    # Collect first, off the clock: each block pays for the cycles it makes itself (micrograd
    # makes many, and the collections they trigger during its steps are on its clock), not
    # for the garbage of the contender before it.
    gc.collect()
    if pause_gc:
        gc.disable()
    try:
        times = []
        for _ in range(count):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        return times
    finally:
        if pause_gc:
            gc.enable()


def medians(contenders: dict[str, Callable[[], object]], rounds: int) -> dict:
    """Median seconds per step of each contender, (name, gc paused?) -> seconds.

    In every round each contender runs a block of back-to-back steps (about 50 ms of them,
    at least one), the contenders taking turns, so that noise hits all of them.
    """
    blocks = {name: max(1, int(0.05 / min(timed_block(step, False, 2)))) for name, step in
              contenders.items()}  # fmt: skip
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(rounds):
        for name, step in contenders.items():
            for pause in (False, True):
                times.setdefault((name, pause), []).extend(timed_block(step, pause, blocks[name]))
    return {key: statistics.median(values) for key, values in times.items()}


def per_node_bytes(build: Callable[[], object], nodes: int) -> float:
    gc.collect()
    tracemalloc.start()
    kept = build()
    allocated, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return allocated / nodes


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    parts = [
        f"{cpu}, {os.cpu_count()} cores",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
        f"numpy {numpy.__version__}" if numpy else "no numpy",
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "no torch",
        f"C compiler {find_compiler() or 'none'}",
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}",
        f"load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "",
    ]
    return "; ".join(parts)


def show(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    print(f"\n{title}")
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"


# --- the run -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds per row (default 7)")
    rounds = parser.parse_args().rounds
    print(f"machine: {machine()}")
    try:
        build_interpreter()  # the c backend's one-time build, outside every timing
        backends = ["python", "numpy", "c"]
    except BackendUnavailableError as error:
        print(f"no c rows: {error}")
        backends = ["python", "numpy"]
    if numpy is None:
        print('no numpy rows: pip install "autograd-lite[numpy]"')
        backends.remove("numpy")

    # 1. the demo step
    points, targets = demo_data()
    model = our_model()
    program, feed = traced_demo(our_model(), points, targets)
    contenders = {
        "micrograd 0.1.0": micrograd_step(twin_micrograd(model), points, targets),
        "autograd_lite engine": engine_step(our_model(), points, targets),
    }
    for backend in backends:
        contenders[f"{backend} replay"] = replay_step(program, feed, backend)
    if torch is not None:
        x = torch.tensor(points, dtype=torch.float64)
        y = torch.tensor(targets, dtype=torch.float64)

        def hinge(scores, params):
            data_loss = torch.relu(1 - y * scores[:, 0]).mean()
            return data_loss + L2 * sum((p * p).sum() for p in params)

        contenders.update(torch_contenders(lambda: torch_model(our_model()), x, hinge))
    else:
        print("no PyTorch rows: pip install torch")
    times = medians(contenders, rounds)
    reference = {pause: times["micrograd 0.1.0", pause] for pause in (False, True)}
    rows = [("demo step", "GC on (as run)", "GC paused", "vs micrograd (on / paused)")]
    for name in contenders:
        on, off = times[name, False], times[name, True]
        ratio = f"{reference[False] / on:,.0f}x / {reference[True] / off:,.0f}x"
        rows.append((name, ms(on), ms(off), ratio))
    show(f"1. demo step ({len(program)} nodes, {program.edges} edges traced), median "
         f"of {rounds}", rows)  # fmt: skip
    if torch is not None and "c" in backends:
        fastest = min(times[name, pause] for name in contenders if name.startswith("PyTorch")
                      for pause in (False, True))  # fmt: skip
        c_time = times["c replay", True]
        print(f"  c replay (GC paused) vs PyTorch's best row: {fastest / c_time:.2f}x "
              "(above 1: c is faster)")  # fmt: skip

    # 2. a wider network on a batch of 100
    wide = MLP(64, [128, 128, 10], activation="relu", seed=0)
    rng = random.Random(0)
    batch = [[rng.gauss(0, 1) for _ in range(64)] for _ in range(100)]
    goals = [[rng.gauss(0, 1) for _ in range(10)] for _ in range(100)]
    started = time.perf_counter()
    samples = [[Value(v) for v in row] for row in batch]
    wide_loss = mean_squared_error([wide(s) for s in samples], goals)
    built = time.perf_counter() - started
    started = time.perf_counter()
    wide_program = trace(
        wide_loss, params=wide.parameters(), inputs=[v for s in samples for v in s]
    )
    traced = time.perf_counter() - started
    del wide_loss, samples
    wide_feed = [v for row in batch for v in row]
    wide_contenders = {
        f"{b} replay": replay_step(wide_program, wide_feed, b) for b in backends if b != "python"
    }
    if torch is not None:
        x = torch.tensor(batch, dtype=torch.float64)
        t = torch.tensor(goals, dtype=torch.float64)
        wide_contenders.update(
            torch_contenders(lambda: torch_model(wide), x, lambda out, ps: ((out - t) ** 2).mean())
        )
    wide_times = medians(wide_contenders, rounds)
    rows = [("MLP(64,[128,128,10]), batch 100", "GC on", "GC paused", "time / PyTorch's best")]
    best = min(
        (wide_times[name, pause] for name in wide_contenders if name.startswith("PyTorch")
         for pause in (False, True)), default=None,
    )  # fmt: skip
    for name in wide_contenders:
        on, off = wide_times[name, False], wide_times[name, True]
        rows.append((name, ms(on), ms(off), f"{min(on, off) / best:.2f}x" if best else "-"))
    show(f"2. wide network ({len(wide_program)} nodes, {wide_program.edges:,} edges; the "
         f"engine built it in {built:.1f} s, trace {traced:.1f} s)", rows)  # fmt: skip

    # 3. trace + build of the demo step
    rows = [("trace + build (demo step)", "engine forward", "trace", "build")]
    for backend in backends:
        fresh = our_model()
        started = time.perf_counter()
        samples = [[Value(v, f"x{i}") for i, v in enumerate(p)] for p in points]
        loss = hinge_loss([fresh(s) for s in samples], targets) + l2_penalty(fresh.parameters(), L2)
        forward = time.perf_counter() - started
        started = time.perf_counter()
        demo_program = trace(
            loss, params=fresh.parameters(), inputs=[v for s in samples for v in s]
        )
        traced = time.perf_counter() - started
        started = time.perf_counter()
        replay(demo_program, backend)
        rows.append((f"{backend} replay", ms(forward), ms(traced),
                     ms(time.perf_counter() - started)))  # fmt: skip
    show("3. from a graph to a replay (the numpy row includes importing numpy if first)", rows)

    # 4. memory: what each really holds -- the engine its graph, a replay its program (read
    # off the graph by trace) and its own arrays
    nodes = len(program)
    rows = [("memory", "bytes per node", "", "")]
    fresh = our_model()
    samples = [[Value(v, f"x{i}") for i, v in enumerate(p)] for p in points]

    def demo_graph():
        return hinge_loss([fresh(x) for x in samples], targets) + l2_penalty(fresh.parameters(), L2)

    rows.append(("engine graph (Values)", f"{per_node_bytes(demo_graph, nodes):.0f}", "", ""))
    demo_loss = demo_graph()
    fed = [v for x in samples for v in x]
    micrograd_model = twin_micrograd(model)

    def micrograd_graph():
        inputs = [[MicrogradValue(x) for x in point] for point in points]
        scores = [micrograd_model(x) for x in inputs]
        losses = [(1 + -y * s).relu() for y, s in zip(targets, scores)]
        return sum(losses) * (1.0 / len(losses)) + L2 * sum(
            p * p for p in micrograd_model.parameters()
        )  # noqa: E501

    graph = micrograd_graph()
    their_nodes = count_micrograd_nodes(graph)
    del graph
    rows.append(("micrograd graph", f"{per_node_bytes(micrograd_graph, their_nodes):.0f}",
                 f"({their_nodes} nodes: one per + and *)", ""))  # fmt: skip
    for backend in backends:

        def held(backend=backend):
            return replay(trace(demo_loss, params=fresh.parameters(), inputs=fed), backend)

        rows.append((f"{backend} replay (its program and arrays)",
                     f"{per_node_bytes(held, nodes):.0f}", "", ""))  # fmt: skip
    show(f"4. memory of the demo step ({nodes} nodes)", rows)


if __name__ == "__main__":
    main()
