"""The replays at the demo's width and wider, against PyTorch and a hand-written C floor.

    pip install micrograd==0.1.0 numpy torch
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_width.py     # a few minutes; --rounds N

Every contender runs one training step -- forward, loss, backward, w = w - 0.05 * dE/dw --
from the same weights, in one process, taking turns (each row's median step time over
``--rounds`` rounds of back-to-back steps; a contender whose step takes over 0.2 s is timed
on a few single steps):

1. four workloads: the demo step (``MLP(2, [16, 16, 1])``, relu, 100 moons points, hinge +
   1e-4 * L2, full batch); ``MLP(2, [128, 128, 1])`` on the same points and loss;
   ``MLP(64, [128, 128, 10])`` on a batch of 100 (Gaussian numbers), mean squared error;
   the demo network on 1,000 moons points. Contenders: micrograd 0.1.0 as its README
   writes it (the demo row only: elsewhere a step would take minutes), the engine as
   ``fit`` runs it (collector paused), the python replay (lists), the numpy replay and
   the c replay through their buffers (``buffers`` and ``step()``: no list; the c replay's
   update is the SGD rule compiled, as ``fit`` runs it), ``fit(backend="c")``'s whole step
   (a training loop's time per step, all of ``fit`` included: the difference between a
   run of 2E and one of E epochs, each without its first step, over E; best of three),
   PyTorch with float64 tensors on one thread, and the floor: ``benchmarks/floor.c``, the
   same step written by hand in C (per-layer loops, no interpreter, the same float
   operations). The floor's and the c replay's
   weights after one step are checked against the engine's, bit for bit, before timing.
   The ratios the project aims at are printed under each row.
2. memory: the bytes a replay holds (its program and its arrays), per node of the graph,
   beside the bytes of the engine's graph itself.
3. scaling: the c replay's and PyTorch's step against the number of edges (chain-rule
   steps): widths 8 to 256, depths 2 to 16, batches 10 to 1,000 (one at a time, from
   width 32, depth 2, batch 100).

Timings are not tests: read the ratios, and run it on your machine.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench_replay import (  # this folder
    LR,
    machine,
    micrograd_step,
    replay_step,
    torch_model,
    twin_micrograd,
)
from bench_replay import torch_step as replayed_torch_step

from autograd_lite import Value
from autograd_lite.batch_loss import forward_pass
from autograd_lite.nn import MLP, SGD, data
from autograd_lite.program import replay, trace
from autograd_lite.program.c_backend import FLAGS, FlatUpdate, build_interpreter, find_compiler
from autograd_lite.training import collector_paused, fit

try:
    import numpy
except ImportError:
    numpy = None
try:
    import torch
except ImportError:
    torch = None

L2 = 1e-4
SLOW = 0.2  # seconds: a step longer than this is timed on a few single steps


@dataclass
class Workload:
    title: str
    nin: int
    sizes: list[int]
    points: list[list[float]]
    targets: list
    loss: str  # "hinge" or "mse"
    l2: float

    def model(self) -> MLP:
        return MLP(self.nin, self.sizes, activation="relu", seed=0)


def workloads() -> list[Workload]:
    points, labels = data.moons(100, 0.1, 0)
    many, many_labels = data.moons(1000, 0.1, 0)
    rng = random.Random(0)
    batch = [[rng.gauss(0, 1) for _ in range(64)] for _ in range(100)]
    goals = [[rng.gauss(0, 1) for _ in range(10)] for _ in range(100)]
    demo = "demo step: MLP 2-16-16-1, 100 points"
    return [
        Workload(demo, 2, [16, 16, 1], points, labels, "hinge", L2),
        Workload("MLP 2-128-128-1, 100 points", 2, [128, 128, 1], points, labels, "hinge", L2),
        Workload("MLP 64-128-128-10, batch of 100", 64, [128, 128, 10], batch, goals, "mse", 0.0),
        Workload("demo network, 1,000 points", 2, [16, 16, 1], many, many_labels, "hinge", L2),
    ]  # fmt: skip


def traced(work: Workload, model: MLP):
    """(program, feed): the step's loss traced with the samples as fed inputs."""
    samples = [[Value(v, f"x{i}") for i, v in enumerate(p)] for p in work.points]
    total, _ = forward_pass(model, samples, work.targets, loss=work.loss, l2=work.l2)
    program = trace(total, params=model.parameters(), inputs=[v for s in samples for v in s])
    return program, [v for p in work.points for v in p]


# --- the contenders ------------------------------------------------------------------------


def engine_step(work: Workload) -> Callable[[], float]:
    model = work.model()
    optimizer = SGD(model.parameters(), lr=LR)

    def step() -> float:
        with collector_paused():  # as fit() runs it
            total, _ = forward_pass(model, work.points, work.targets, loss=work.loss, l2=work.l2)
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            return total.data

    return step


def numpy_step(program, feed) -> Callable[[], float]:
    """The numpy replay through its buffers: arrays in place, no list."""
    runner = replay(program, "numpy")
    buffers = runner.buffers
    buffers.inputs[:] = feed

    def step() -> float:
        loss = runner.step()
        buffers.params[:] -= LR * buffers.gradients
        return loss

    return step


def c_step(program, feed, model: MLP) -> tuple[Callable[[], float], object]:
    """The c replay through its buffers: ``step()`` (one call into C), then the SGD rule
    compiled (``FlatUpdate``, as fit runs it): no list, no Python loop over the weights."""
    runner = replay(program, "c")
    runner.buffers.inputs[:] = array("d", feed)
    count = len(program.parameters)
    weights = (ctypes.c_double * count).from_buffer(runner.buffers.params)
    optimizer = SGD(model.parameters(), lr=LR)
    update = FlatUpdate(optimizer, range(count), weights)
    settings = optimizer.settings(LR)

    def step() -> float:
        loss = runner.step()
        update(runner.gradient_array, settings)
        return loss

    return step, runner


def torch_step(work: Workload) -> Callable[[], float]:
    """PyTorch float64 on the same model, data and loss (bench_replay's step, LR alike)."""
    layers = torch_model(work.model())
    x = torch.tensor(work.points, dtype=torch.float64)
    t = torch.tensor(work.targets, dtype=torch.float64)

    def loss_of(h, params):
        if work.loss == "mse":
            loss = ((h - t) ** 2).mean()
        else:
            loss = torch.relu(1 - t * h[:, 0]).mean()
        if work.l2:
            loss = loss + work.l2 * sum((p * p).sum() for p in params)
        return loss

    return replayed_torch_step(layers, x, loss_of)


_floor: list[ctypes.CDLL] = []


def build_floor() -> ctypes.CDLL:
    """benchmarks/floor.c, compiled with the c replay's flags."""
    if not _floor:
        folder = Path(tempfile.mkdtemp())
        target = folder / "floor.so"
        source = Path(__file__).with_name("floor.c")
        compiler = find_compiler()
        for flags in (FLAGS, [f for f in FLAGS if f != "-march=native"]):
            done = subprocess.run([compiler, *flags, "-o", str(target), str(source), "-lm"],
                                  capture_output=True, text=True)  # fmt: skip
            if done.returncode == 0:
                break
        else:
            raise RuntimeError(f"floor.c does not compile: {done.stderr.strip()}")
        library = ctypes.CDLL(str(target))
        int_p, double_p = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_double)
        library.floor_step.argtypes = [ctypes.c_int, int_p, ctypes.c_int, double_p, double_p,
                                       ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                       double_p, double_p]  # fmt: skip
        library.floor_step.restype = ctypes.c_double
        _floor.append(library)
    return _floor[0]


def floor_step(work: Workload) -> tuple[Callable[[], float], ctypes.Array]:
    library = build_floor()
    model = work.model()
    sizes = [work.nin, *work.sizes]
    int_array, double_array = ctypes.c_int * len(sizes), ctypes.c_double
    flat_targets = [float(v) for t in work.targets for v in (t if isinstance(t, list) else [t])]
    x = (double_array * (len(work.points) * work.nin))(*[v for p in work.points for v in p])
    t = (double_array * len(flat_targets))(*flat_targets)
    params = (double_array * len(model.parameters()))(*[p.data for p in model.parameters()])
    grads = (double_array * len(params))()
    arguments = (len(work.sizes), int_array(*sizes), len(work.points), x, t,
                 int(work.loss == "mse"), work.l2, LR, params, grads)  # fmt: skip

    def step() -> float:
        return library.floor_step(*arguments)

    return step, params


def fit_step(work: Workload, epochs: int) -> tuple[float, float]:
    """fit(backend="c")'s time per step, everything in its loop included: a run of 2E
    epochs and one of E, each without its first step (which traces and builds the
    replay); their difference over E leaves out what a run pays once (the checks of the
    data, the weights given back at the end). Also the median of history.seconds. (The
    batch's accuracy is counted in C on this path: CReplay.binary_correct.)"""

    def run(count: int) -> tuple[float, list[float]]:
        model = work.model()
        optimizer = SGD(model.parameters(), lr=LR)
        began = time.perf_counter()
        history = fit(model, work.points, work.targets, loss=work.loss, l2=work.l2,
                      optimizer=optimizer, epochs=count, progress=False, backend="c")  # fmt: skip
        return time.perf_counter() - began - history.seconds[0], history.seconds

    pairs = []  # the best of three pairs, as timeit keeps its best: neighbours only add time
    for _ in range(3):
        short, _ = run(epochs)
        whole, seconds = run(2 * epochs)
        pairs.append((whole - short, seconds))
    difference, seconds = min(pairs, key=lambda pair: pair[0])
    return difference / epochs, statistics.median(seconds)


# --- timing --------------------------------------------------------------------------------


def block(step: Callable[[], object], count: int) -> list[float]:
    gc.collect()  # off the clock: each block pays for its own garbage only
    times = []
    for _ in range(count):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    return times


def median_times(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds per step; contenders take turns, a block of ~50 ms each per round."""
    first = {name: min(block(step, 1)) for name, step in contenders.items()}
    counts = {name: max(1, int(0.05 / max(t, 1e-7))) for name, t in first.items()}
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for k in range(rounds):
        for name, step in contenders.items():
            if first[name] > SLOW and k >= 2:  # slow: a few single steps are enough
                continue
            times[name].extend(block(step, 1 if first[name] > SLOW else counts[name]))
    return {name: statistics.median(values) for name, values in times.items()}


def show(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def ms(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "missed"


# --- the run -------------------------------------------------------------------------------


def compare_row(work: Workload, rounds: int, row: int) -> dict[str, float]:
    model = work.model()
    program, feed = traced(work, model)
    contenders: dict[str, Callable[[], object]] = {}
    if row == 0:
        contenders["micrograd 0.1.0 (as its README)"] = micrograd_step(
            twin_micrograd(model), work.points, work.targets
        )
    contenders["autograd_lite engine (as fit runs it)"] = engine_step(work)
    contenders["python replay (lists)"] = replay_step(program, feed, "python")
    if numpy is not None:
        contenders["numpy replay (buffers)"] = numpy_step(program, feed)
    c_replay, runner = c_step(program, feed, work.model())
    contenders["c replay (buffers: step + compiled SGD)"] = c_replay
    if torch is not None:
        contenders["PyTorch float64, 1 thread"] = torch_step(work)
    floor, floor_params = floor_step(work)
    contenders["floor: hand-written C (floor.c)"] = floor
    # before any timing: one step of the floor and of the c replay gives the engine's weights
    engine_model = work.model()
    total, _ = forward_pass(engine_model, work.points, work.targets, loss=work.loss, l2=work.l2)
    total.backward()
    SGD(engine_model.parameters(), lr=LR).step()
    expected = [p.data for p in engine_model.parameters()]
    floor()
    c_replay()
    same = {"floor": list(floor_params) == expected,
            "c replay": runner.buffers.params.tolist() == expected}  # fmt: skip
    print(f"\n{row + 1}. {work.title} ({len(program):,} nodes, {program.edges:,} edges; "
          f"plan of the c replay: {runner.plan})")  # fmt: skip
    print("   the engine's weights after one step, bit for bit: "
          + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in same.items()))  # fmt: skip
    times = median_times(contenders, rounds)
    c_time = times["c replay (buffers: step + compiled SGD)"]
    epochs = max(20, int(0.4 / c_time))
    per_step, recorded = fit_step(work, epochs)
    times['fit(backend="c") step (the whole loop)'] = per_step
    floor_time = times["floor: hand-written C (floor.c)"]
    table = [("contender", "step", "vs floor", "vs c replay")]
    for name, seconds in times.items():
        table.append(
            (name, ms(seconds), f"{seconds / floor_time:.2f}x", f"{seconds / c_time:.2f}x")
        )
    show(table)
    print(f"   fit's own record of a step (median of history.seconds): {ms(recorded)}")
    return times


def targets(times: list[dict[str, float]]) -> None:
    c, fit_name, floor = ("c replay (buffers: step + compiled SGD)",
                          'fit(backend="c") step (the whole loop)',
                          "floor: hand-written C (floor.c)")  # fmt: skip
    torch_name, numpy_name = "PyTorch float64, 1 thread", "numpy replay (buffers)"
    lines = [("target", "measured", "")]
    ratio = times[0][c] / times[0][floor]
    lines.append(
        ("c replay within 1.5x of the floor, demo step", f"{ratio:.2f}x", verdict(ratio, 1.5))
    )
    for k in (0, 3):
        if torch_name in times[k]:
            ratio = times[k][c] / times[k][torch_name]
            lines.append((f"c replay at most PyTorch's time, row {k + 1}", f"{ratio:.2f}x",
                          verdict(ratio, 1.0)))  # fmt: skip
    for k in (1, 2):
        if torch_name in times[k]:
            ratio = times[k][c] / times[k][torch_name]
            lines.append((f"c replay within 1.5x of PyTorch, row {k + 1}", f"{ratio:.2f}x",
                          verdict(ratio, 1.5)))  # fmt: skip
            if numpy_name in times[k]:
                ratio = times[k][numpy_name] / times[k][torch_name]
                lines.append((f"numpy replay within 1.2x of PyTorch, row {k + 1}",
                              f"{ratio:.2f}x", verdict(ratio, 1.2)))  # fmt: skip
    for k in range(len(times)):
        ratio = times[k][fit_name] / times[k][c]
        lines.append((f"fit's step within 1.3x of the c replay's, row {k + 1}", f"{ratio:.2f}x",
                      verdict(ratio, 1.3)))  # fmt: skip
    print("\nTargets (ratios of times measured above; below 1: faster):")
    show(lines)


def held_bytes(build: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    kept = build()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return held


def memory_of(work: Workload) -> dict[str, str]:
    """Bytes per node of one workload: the engine's graph; the program (what ``trace``
    keeps); each replay's own arrays and, with the program it holds, all it keeps."""
    model = work.model()
    samples = [[Value(v, f"x{i}") for i, v in enumerate(p)] for p in work.points]
    inputs = [v for s in samples for v in s]

    def graph() -> object:
        return forward_pass(model, samples, work.targets, loss=work.loss, l2=work.l2)

    total, _ = graph()

    def traced_program():
        return trace(total, params=model.parameters(), inputs=inputs)

    program = traced_program()
    nodes = len(program)
    shown = {"engine graph (Values)": f"{held_bytes(graph) / nodes:.0f}"}
    program_bytes = held_bytes(traced_program)
    shown["program (what trace keeps)"] = f"{program_bytes / nodes:.0f}"
    for backend in ("python", "numpy", "c"):
        if backend != "numpy" or numpy is not None:
            own = held_bytes(lambda backend=backend: replay(program, backend))
            shown[f"{backend} replay: its arrays / with its program"] = (
                f"{own / nodes:.0f} / {(own + program_bytes) / nodes:.0f}"
            )
    return shown


def memory(works: list[Workload]) -> None:
    rows = [("bytes per node of the graph", *(work.title.split(":")[0] for work in works))]
    columns: dict[str, list[str]] = {}
    for work in works:
        for name, value in memory_of(work).items():
            columns.setdefault(name, []).append(value)
    rows += [(name, *values) for name, values in columns.items()]
    print("\nMemory: what each holds, per node of the step's graph (tracemalloc)")
    show(rows)


def scaling(rounds: int) -> None:
    configs = [(w, 2, 100) for w in (8, 16, 32, 64, 128, 256)]
    configs += [(32, d, 100) for d in (4, 8, 16)] + [(32, 2, b) for b in (10, 1000)]
    rows = [("width", "depth", "batch", "edges", "c replay", "PyTorch", "c / PyTorch")]
    for width, depth, batch in configs:
        points, labels = data.moons(batch, 0.1, 0)
        work = Workload("", 2, [width] * depth + [1], points, labels, "hinge", L2)
        model = work.model()
        program, feed = traced(work, model)
        contenders = {"c": c_step(program, feed, work.model())[0]}
        if torch is not None:
            contenders["torch"] = torch_step(work)
        times = median_times(contenders, max(3, rounds // 2))
        torch_time = times.get("torch")
        rows.append((str(width), str(depth), str(batch), f"{program.edges:,}", ms(times["c"]),
                     ms(torch_time) if torch_time else "-",
                     f"{times['c'] / torch_time:.2f}x" if torch_time else "-"))  # fmt: skip
        del program, feed, contenders
    print(
        "\nScaling: one step against the edges (from width 32, depth 2, batch 100, one at a time)"
    )
    show(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds per row (default 7)")
    parser.add_argument("--no-scaling", action="store_true", help="leave out the scaling table")
    options = parser.parse_args()
    if find_compiler() is None:
        sys.exit("bench_width.py: needs a C compiler (cc, gcc or clang)")
    if torch is not None:
        torch.set_num_threads(1)
    build_interpreter()  # the c backend's one-time build, outside every timing
    print(f"machine: {machine()}")
    started = time.perf_counter()
    works = workloads()
    times = [compare_row(work, options.rounds, k) for k, work in enumerate(works)]
    targets(times)
    memory(works[:2])
    if not options.no_scaling:
        scaling(options.rounds)
    print(f"\n(the whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
