"""Steps per second of the play page (`autograd-lite play`) in headless Chromium.

    python benchmarks/bench_play.py            # about 20 seconds; --seconds N to play longer

The page's default network (moons, 2 features, hidden layers [4, 4], tanh, batch of 10) is
timed three ways, each after a warm-up:

1. with redraws: one training step, then the whole page drawn again (the heat maps of the
   output and of every neuron on a 40 x 40 grid, the edges, the loss chart), repeatedly --
   the page's worst case, and the number the target of 30 steps a second is about;
2. playing: Play pressed for a few seconds, one step per animation frame, as a learner
   watches it (bounded by the browser's frame rate);
3. training alone: ``autogradLite.step(n)``, drawn once at the end.

The reference, measured in the same run, is the Python engine training the same network on
the same batches (``fit``): the ratio column says how many times faster the page trains.
Timings are not tests: the ratio holds better than the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from autograd_lite.nn import SGD
from autograd_lite.training import fit
from autograd_lite.visualize.play_page import (
    DEFAULTS,
    export_play_html,
    features_of,
    playground_data,
    playground_model,
)

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TARGET = 30.0  # steps a second, with redraws


def engine_steps_per_second(steps: int = 300) -> float:
    """The Python engine on the page's default network, data and batches."""
    config = DEFAULTS
    train, _ = playground_data(config)
    model = playground_model(config)
    inputs = [features_of(p, config["features"]) for p in train]
    targets = [p[2] for p in train]
    began = time.perf_counter()
    fit(
        model, inputs, targets, loss=config["loss"], epochs=10**6,
        optimizer=SGD(model.parameters(), lr=config["learningRate"]),
        batch_size=config["batchSize"], seed=config["seed"], progress=False,
        on_step=lambda step: step.step + 1 < steps,
    )  # fmt: skip
    return steps / (time.perf_counter() - began)


def page_rates(page_path: Path, seconds: float) -> dict[str, float]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 800})
        tab.goto(page_path.as_uri())
        redraws = tab.evaluate(
            """seconds => {
                const api = window.autogradLite;
                for (let k = 0; k < 30; k++) api.step(1);  // warm-up: the JIT compiles
                api.load({});
                let steps = 0;
                const began = performance.now();
                while (performance.now() - began < seconds * 1000) { api.step(1); steps++; }
                return steps / ((performance.now() - began) / 1000);
            }""",
            seconds,
        )
        tab.evaluate("window.autogradLite.load({})")
        tab.click("#play")
        start = tab.evaluate("[window.autogradLite.state().step, performance.now()]")
        tab.wait_for_timeout(seconds * 1000)
        end = tab.evaluate("[window.autogradLite.state().step, performance.now()]")
        tab.click("#play")
        playing = (end[0] - start[0]) / ((end[1] - start[1]) / 1000)
        alone = tab.evaluate(
            """() => {
                const api = window.autogradLite;
                api.load({});
                api.step(200);  // warm-up
                const began = performance.now();
                api.step(2000);
                return 2000 / ((performance.now() - began) / 1000);
            }"""
        )
        version = browser.version
        browser.close()
    return {"with redraws": redraws, "playing": playing, "training alone": alone, "v": version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="time per measurement (4)")
    args = parser.parse_args()
    page = export_play_html(Path(tempfile.mkdtemp()) / "play.html")
    engine = engine_steps_per_second()
    rates = page_rates(page, args.seconds)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"Chromium {rates.pop('v')}; page {page.stat().st_size // 1000} KB")  # fmt: skip
    print(f"default network: {DEFAULTS['layers']} {DEFAULTS['activation']}, "
          f"batch {DEFAULTS['batchSize']}, {DEFAULTS['points']} points")  # fmt: skip
    print(f"{'':24}{'steps/s':>10}{'x engine':>10}")
    print(f"{'Python engine (fit)':24}{engine:>10.0f}{1.0:>10.1f}")
    for name, rate in rates.items():
        print(f"{'page, ' + name:24}{rate:>10.0f}{rate / engine:>10.1f}")
    verdict = "meets" if rates["with redraws"] >= TARGET else "MISSES"
    print(f"with redraws the page {verdict} the target of {TARGET:.0f} steps a second")


if __name__ == "__main__":
    main()
