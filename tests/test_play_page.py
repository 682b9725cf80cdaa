"""The play page (`autograd-lite play`) in a real browser: Debian's chromium, through Playwright.

The page trains with the JavaScript the exporter writes, so each test compares it with the
Python engine: the same points, the same first weights, the same batches, and after k steps
the same weights and gradients, digit for digit. The page must load with no console error,
fetch nothing but itself, and fit a phone.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograd_lite.batch_loss import LOSSES
from autograd_lite.cli import main
from autograd_lite.export import export_model
from autograd_lite.nn import MLP, SGD, data
from autograd_lite.sums import sum_values
from autograd_lite.training import fit
from autograd_lite.visualize.play_code import (
    ACTIVATIONS,
    LOSS_NAMES,
    normalized,
    page_loss,
    probe_target,
)
from autograd_lite.visualize.play_page import (
    DEFAULTS,
    MAX_PAGE_BYTES,
    export_play_html,
    features_of,
    playground_data,
    playground_model,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
API = "window.autogradLite"


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    return export_play_html(tmp_path_factory.mktemp("play") / "play")


@dataclass
class Opened:
    """A page in the browser, with what it logged and fetched so far."""

    page: object
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def call(self, expression: str, argument: object = None) -> object:
        """``window.autogradLite.<expression>`` called with ``argument`` (JSON)."""
        return self.page.evaluate(f"(argument) => {API}.{expression}", argument)

    def check_clean(self) -> None:
        assert self.errors == [], "the page logged errors"
        files = {url.split("#")[0] for url in self.requests}
        assert len(files) == 1, f"the page fetched more than itself: {self.requests}"


@pytest.fixture
def open_page(browser, page_file):
    """Opens the page (a URL's settings after ``#``) for one test; checked at the end."""
    pages = []

    def opener(settings: str = "", width: int = 1280, height: int = 800) -> Opened:
        page = browser.new_page(viewport={"width": width, "height": height})
        opened = Opened(page)
        page.on(
            "console",
            lambda message: message.type == "error" and opened.errors.append(message.text),
        )
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.on("request", lambda request: opened.requests.append(request.url))
        page.goto(page_file.as_uri() + (f"#{settings}" if settings else ""))
        pages.append(opened)
        return opened

    yield opener
    for opened in pages:
        opened.page.close()
        opened.check_clean()


# --- the Python side: the engine, trained as the page trains ---------------------------------


def targets_of(config: dict, points: list) -> list[float]:
    if config["loss"] == "bce_with_logits":
        return [1.0 if p[2] > 0 else 0.0 for p in points]
    return [p[2] for p in points]


def engine_training(config: dict, train: list, steps: int) -> tuple[MLP, dict, dict]:
    """The model, its weights and the last step's gradients after ``steps`` steps of
    ``fit`` (or, for L1, which fit has not, the same loop written out), on ``train``."""
    model = playground_model(config)
    parameters = model.parameters()
    inputs = [features_of(p, config["features"]) for p in train]
    targets = targets_of(config, train)
    rate = config["regularizationRate"]
    grads: dict = {}
    if config["regularization"] == "L1":
        rng, order, size = (
            random.Random(config["seed"]),
            list(range(len(train))),
            config["batchSize"],
        )
        done = 0
        while done < steps:
            if size < len(train):
                rng.shuffle(order)
            for start in range(0, len(train), size):
                batch = order[start : start + size]
                outputs = [model(inputs[i]) for i in batch]
                error = LOSSES[config["loss"]][0](outputs, [targets[i] for i in batch])
                error = error + sum_values([p.abs() for p in parameters]) * rate
                model.zero_grad()
                error.backward()
                grads = {p.label: p.grad for p in parameters}
                for p in parameters:
                    p.data -= config["learningRate"] * p.grad
                done += 1
                if done == steps:
                    break
    else:

        def watch(step) -> bool:
            grads.clear()
            grads.update({p.label: p.grad for p in parameters})
            return step.step + 1 < steps

        fit(
            model, inputs, targets, loss=config["loss"], epochs=10**6, seed=config["seed"],
            optimizer=SGD(parameters, lr=config["learningRate"]), batch_size=config["batchSize"],
            l2=rate if config["regularization"] == "L2" else 0.0, progress=False, on_step=watch,
        )  # fmt: skip
    return model, {p.label: p.data for p in parameters}, grads


def libm_agrees(opened: Opened) -> bool:
    """True when the browser's Math.exp, log, tanh, sin and cos give CPython's digits
    (Debian's chromium does; other JavaScript engines differ in the last bit at times)."""
    rng = random.Random(5)
    xs = [rng.uniform(-5.0, 5.0) for _ in range(3000)]
    got = opened.page.evaluate(
        "xs => ['exp', 'tanh', 'sin', 'cos'].map(f => xs.map(Math[f]))"
        ".concat([xs.map(x => Math.log(Math.abs(x)))])",
        xs,
    )
    want = [[getattr(math, f)(x) for x in xs] for f in ("exp", "tanh", "sin", "cos")]
    return got == [*want, [math.log(abs(x)) for x in xs]]


# --- the tests --------------------------------------------------------------------------------


def test_the_page_is_one_light_file(page_file):
    text = page_file.read_text(encoding="utf-8")
    assert page_file.stat().st_size < MAX_PAGE_BYTES
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text and '<link rel="stylesheet"' not in text


def test_it_runs_the_exporters_code_for_every_network(open_page):
    opened = open_page()
    rng = random.Random(3)
    for activation in ACTIVATIONS:
        for loss in LOSS_NAMES:
            for depth in range(7):
                # middle layers of 3 or more: with 1 or 2 neurons the exporter walks them
                # forwards, the page backwards (the same sums: two terms add either way)
                hidden = [rng.randint(1, 8)] + [rng.randint(3, 8) for _ in range(depth - 1)]
                sizes = [rng.randint(1, 7), *hidden[:depth], 1]
                model = MLP(sizes[0], sizes[1:], activation=activation, seed=0)
                source = export_model(
                    model, [0.5] * sizes[0], [probe_target(loss)], "javascript", page_loss(loss)
                )
                composed = opened.call("code(...argument)", [sizes, activation, loss])
                assert composed == normalized(source), (activation, loss, sizes)
    assert opened.page.text_content("#code") == opened.call("code()")


def test_the_data_are_nn_datas(open_page):
    opened = open_page()
    exact = libm_agrees(opened)
    for settings in (
        {},
        {"dataset": "circles", "noise": 0.3, "points": 91, "seed": 7},
        {"dataset": "xor", "noise": 0.2, "points": 40, "trainFraction": 0.3},
        {"dataset": "spiral", "noise": 0.25, "seed": 2**40 + 3},
        {"dataset": "blobs", "noise": 0.6, "points": 33, "trainFraction": 0.9},
    ):
        config = opened.call("load(argument)", settings)
        got = opened.call("data()")
        train, test = playground_data(config)
        if exact:  # the same random numbers, the same cos, sin and log: every digit
            assert (got["train"], got["test"]) == (train, test), settings
        else:
            assert [p[2] for p in got["train"]] == [p[2] for p in train]
            flat = [v for p in got["train"] + got["test"] for v in p]
            assert flat == pytest.approx([v for p in train + test for v in p], abs=1e-12)


CONFIGS = [
    {},  # the defaults: moons, tanh, squared error
    {"activation": "relu", "loss": "hinge", "layers": [5, 2, 6], "batchSize": 7},
    {"activation": "relu", "loss": "mse", "regularization": "L2", "regularizationRate": 0.01},
    {"activation": "sigmoid", "loss": "bce_with_logits", "dataset": "xor", "noise": 0.2},
    {"activation": "linear", "layers": [], "features": ["x1", "x2", "x1sq", "x2sq", "x1x2"]},
    {"dataset": "circles", "features": ["x1sq", "sinx1", "sinx2"], "layers": [3, 3, 3, 3, 3, 3],
     "activation": "relu", "regularization": "L1", "regularizationRate": 0.003},
    {"dataset": "spiral", "batchSize": 100, "layers": [8, 1], "seed": 99, "learningRate": 0.3},
]  # fmt: skip


@pytest.mark.parametrize(
    "settings", CONFIGS, ids=lambda s: ",".join(map(str, s.values())) or "defaults"
)
def test_after_k_steps_the_weights_are_the_engines(open_page, settings):
    opened = open_page()
    config = opened.call("load(argument)", settings)
    train = opened.call("data()")["train"]
    assert opened.call("state()")["weights"] == {
        p.label: p.data for p in playground_model(config).parameters()
    }  # the same first weights: MLP(seed=...)'s
    state = opened.call("step(argument)", 25)
    _, weights, grads = engine_training(config, train, 25)
    assert state["step"] == 25
    code = opened.call("code()")
    libm = (
        any(f"Math.{f}(" in code for f in ("exp", "log", "tanh")) or "sinx1" in config["features"]
    )
    if not libm or libm_agrees(opened):
        assert state["weights"] == weights and state["grads"] == grads  # every digit
    else:  # another browser's exp, log or tanh: a last-bit difference may grow a little
        for name, w in weights.items():
            assert state["weights"][name] == pytest.approx(w, rel=1e-9, abs=1e-12), name


def test_it_learns_the_moons(open_page):
    opened = open_page()
    assert opened.call("config()") == DEFAULTS
    for _ in range(15):
        state = opened.call("step(argument)", 200)
        if state["testAccuracy"] >= 0.95:
            break
    assert state["testAccuracy"] >= 0.95, state["step"]
    assert state["trainLoss"] < 0.2


def point_on(opened: Opened, selector: str) -> tuple[float, float]:
    """A point of an SVG path where a click reaches it (not another path over it)."""
    found = opened.page.evaluate(
        """selector => {
            const path = document.querySelector(selector);
            const length = path.getTotalLength();
            const matrix = path.getScreenCTM();
            for (let k = 1; k < 20; k++) {
                const p = path.getPointAtLength(length * k / 20);
                const x = p.x * matrix.a + matrix.e, y = p.y * matrix.d + matrix.f;
                if (document.elementFromPoint(x, y) === path) return [x, y];
            }
            return null;
        }""",
        selector,
    )
    assert found, f"no point of {selector} can be clicked"
    return found


def shown(opened: Opened, role: str) -> list[float]:
    """The full values of the inspector's numbers of one role, in order."""
    return [
        float(v)
        for v in opened.page.eval_on_selector_all(
            f"#inspector [data-role={role}]", "spans => spans.map(s => s.dataset.value)"
        )
    ]


def test_a_click_on_a_weight_shows_its_gradient_as_delta_times_a(open_page):
    opened = open_page()
    config = opened.call("config()")
    train = opened.call("data()")["train"]
    opened.call("step(argument)", 7)
    opened.page.mouse.click(*point_on(opened, '[data-name="L1.n2.w1"]'))
    _, weights, grads = engine_training(config, train, 7)
    inspector = opened.page.text_content("#inspector")
    assert "L1.n2.w1" in inspector and "a_in × δ" in inspector
    assert shown(opened, "grad") == [grads["L1.n2.w1"]] * 2  # the sum, then the update
    assert shown(opened, "after") == [weights["L1.n2.w1"]]
    opened.page.click("#toggle-samples")  # sample by sample: all 10 of the batch
    products, a, delta = shown(opened, "product"), shown(opened, "a"), shown(opened, "delta")
    assert len(products) == 10 and products == [x * d for x, d in zip(a, delta)]
    total = 0.0
    for product in reversed(products):  # the engine's order: the last sample first
        total += product
    assert total == grads["L1.n2.w1"]
    [before], [lr] = shown(opened, "before"), shown(opened, "lr")
    assert before - lr * grads["L1.n2.w1"] == weights["L1.n2.w1"]


def test_a_click_on_a_neuron_shows_delta_from_the_next_layer(open_page):
    opened = open_page()
    config = opened.call("config()")
    train = opened.call("data()")["train"]
    opened.call("step(argument)", 12)
    opened.page.click('[data-neuron="L0.n1"]', position={"x": 20, "y": 10})
    opened.page.click("#previous-sample")  # the batch's last sample: the engine's z holds it
    model, _, grads = engine_training(config, train, 12)
    neuron = model.layers[0].neurons[1]
    assert shown(opened, "z") == [neuron.z.data] and shown(opened, "a") == [neuron.a.data]
    assert shown(opened, "delta") == [neuron.z.grad]  # δ = ∂E/∂z
    assert shown(opened, "blame") == [neuron.a.grad] * 2  # Σ w δ_next = ∂E/∂a
    assert shown(opened, "grad") == [grads["L0.n1.b"]]  # ∂E/∂b = Σ δ over the batch
    opened.page.click("#start-walk")  # one multiplication at a time, from the output back
    assert "from the loss" in opened.page.text_content("#walk-line")
    assert opened.page.locator(".node.walking").count() == 1
    opened.page.click("#walk-next")
    opened.page.click("#walk-next")
    assert opened.page.locator(".edge.walking").count() == 1


def test_the_link_keeps_the_configuration(open_page):
    settings = {
        "dataset": "spiral", "noise": 0.35, "points": 150, "trainFraction": 0.7,
        "features": ["x1", "x1x2", "sinx2"], "layers": [6, 3, 2], "activation": "relu",
        "loss": "hinge", "learningRate": 0.03, "batchSize": 17, "regularization": "L2",
        "regularizationRate": 0.001, "seed": 42, "hide": ["data", "layers"],
    }  # fmt: skip
    first = open_page()
    first.call("load(argument)", settings)
    link = first.page.url
    again = open_page(link.split("#", 1)[1])
    assert again.call("config()") == settings
    assert again.page.is_hidden(".data-column") and again.page.is_hidden("#add-layer")
    assert again.page.is_visible("#learningRate")
    first.page.select_option("#activation", "sigmoid")  # a change goes into the link
    assert "activation=sigmoid" in first.page.url


def test_a_bad_link_is_named_and_the_rest_is_kept(open_page):
    opened = open_page("dataset=moons&learningRate=fast&layers=3,99&colour=red&seed=5")
    config = opened.call("config()")
    assert config["seed"] == 5 and config["learningRate"] == DEFAULTS["learningRate"]
    assert config["layers"] == DEFAULTS["layers"]
    notice = opened.page.text_content("#notice")
    assert "learningRate=fast: learningRate must be a number above 0" in notice
    assert "layers must be a list of up to 6 sizes" in notice and "unknown setting colour" in notice


def test_bad_settings_through_the_api_raise_a_clear_error(open_page):
    opened = open_page()
    for settings, message in [
        ({"learningRate": -1}, "learningRate must be a number above 0"),
        ({"layers": [3, 9]}, "layers must be a list of up to 6 sizes from 1 to 8"),
        ({"colour": "red"}, 'unknown setting "colour"'),
        ({"features": []}, "features must be a list of different features"),
    ]:
        with pytest.raises(sync_api.Error, match=message):
            opened.call("load(argument)", settings)
    assert opened.call("config()") == DEFAULTS  # nothing was changed


def test_a_click_on_the_map_adds_a_point_the_next_step_learns_from(open_page):
    opened = open_page()
    config = opened.call("load(argument)", {"points": 40, "batchSize": 100})  # full batch
    before = opened.call("data()")["train"]
    opened.page.check("input[name=adds][value='-1']")
    box = opened.page.locator("#map").bounding_box()
    opened.page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75)
    train = opened.call("data()")["train"]
    assert train[:-1] == before and train[-1][2] == -1
    domain_x = (min(p[0] for p in train[:-1]), max(p[0] for p in train[:-1]))
    assert domain_x[0] - 1 < train[-1][0] < (domain_x[0] + domain_x[1]) / 2
    state = opened.call("step(argument)", 1)
    _, weights, grads = engine_training(config, train, 1)
    assert state["grads"] == grads and state["weights"] == weights


def test_rewinding_shows_every_number_as_it_was(open_page):
    opened = open_page()
    at_40 = opened.call("step(argument)", 40)
    at_41 = opened.call("step(argument)", 1)
    opened.call("step(argument)", 109)
    assert opened.call("rewind(argument)", 110) == at_40
    opened.page.mouse.click(*point_on(opened, '[data-name="L0.n0.w1"]'))
    assert shown(opened, "grad") == [at_40["grads"]["L0.n0.w1"]] * 2
    assert "Play or Step goes on from here" in opened.page.text_content("#history-label")
    assert opened.call("step(argument)", 1) == at_41  # training goes on from step 40
    assert opened.call("rewind(argument)", 41)["step"] == 0  # all steps so far are kept
    opened.call("step(argument)", 300)
    assert opened.call("rewind(argument)", 500)["step"] == 100  # the last 200


def engine_refusal(config: dict, train: list) -> tuple[int, str]:
    """The step at which the engine raises, training as the page does, and its error."""
    model = playground_model(config)
    parameters = model.parameters()
    inputs = [features_of(p, config["features"]) for p in train]
    targets = targets_of(config, train)
    rng, order, size = random.Random(config["seed"]), list(range(len(train))), config["batchSize"]
    step = 0
    try:
        while True:
            rng.shuffle(order)
            for start in range(0, len(train), size):
                batch = order[start : start + size]
                outputs = [model(inputs[i]) for i in batch]
                error = LOSSES[config["loss"]][0](outputs, [targets[i] for i in batch])
                model.zero_grad()
                error.backward()
                for p in parameters:
                    p.data -= config["learningRate"] * p.grad
                step += 1
    except (OverflowError, ValueError, ZeroDivisionError) as refused:
        return step + 1, str(refused)


def test_a_diverging_run_stops_where_the_engine_refuses(open_page):
    opened = open_page()
    config = opened.call("load(argument)", {"learningRate": 100, "activation": "relu"})
    step, why = engine_refusal(config, opened.call("data()")["train"])
    with pytest.raises(sync_api.Error, match=f"step {step} was refused: OverflowError"):
        opened.call("step(argument)", 300)
    assert opened.call("state()")["step"] == step - 1  # the weights of the last sound step
    assert f"Step {step} was refused" in opened.page.text_content("#notice")
    assert "result too large" in why
    opened.page.click("#step")  # the button says it again, and nothing moves
    assert opened.call("state()")["step"] == step - 1 and not opened.call("playing()")


def test_play_and_pause(open_page):
    opened = open_page()
    opened.page.click("#play")
    opened.page.wait_for_function(f"{API}.state().step >= 5")
    opened.page.keyboard.press("Space")  # the focus is on the button: it toggles
    steps = opened.call("state()")["step"]
    assert not opened.call("playing()")
    opened.page.wait_for_timeout(100)
    assert opened.call("state()")["step"] == steps
    assert opened.page.text_content("#play").endswith("Play")


def test_the_model_goes_to_python_and_back(open_page, tmp_path):
    opened = open_page()
    opened.call("load(argument)", {"layers": [3, 2], "activation": "relu"})
    state = opened.call("step(argument)", 20)
    with opened.page.expect_download() as download:
        opened.page.click("#save-model")
    path = tmp_path / "model.json"
    download.value.save_as(path)
    model = MLP.load(path)
    assert {p.label: p.data for p in model.parameters()} == state["weights"]
    assert model.describe() == "MLP(2, [3, 2, 1], activation='relu', output_activation='linear')"

    saved = MLP(3, [5, 1], activation="sigmoid", seed=11)
    saved.save(tmp_path / "from-python.json")
    opened.page.set_input_files("#open-model", str(tmp_path / "from-python.json"))
    opened.page.wait_for_function(f"{API}.config().activation === 'sigmoid'")  # read, then put in
    config = opened.call("config()")
    assert config["layers"] == [5] and config["activation"] == "sigmoid"
    assert config["features"] == ["x1", "x2", "x1sq"]  # 3 inputs: the first three features
    assert opened.call("state()")["weights"] == {p.label: p.data for p in saved.parameters()}
    opened.page.set_input_files("#open-model", str(tmp_path / "model.json"))  # it reads it back
    opened.page.wait_for_function(f"{API}.config().activation === 'relu'")
    assert opened.call("state()")["weights"] == state["weights"]


def test_features_and_layers_change_with_a_click(open_page):
    opened = open_page()
    opened.page.click("[data-feature=x1sq]")
    opened.page.click("#add-layer")
    opened.page.locator(".neuron-buttons").first.locator("button").last.click()
    config = opened.call("config()")
    assert config["features"] == ["x1", "x2", "x1sq"] and config["layers"] == [5, 4, 4]
    assert opened.page.locator(".edge").count() == 3 * 5 + 5 * 4 + 4 * 4 + 4


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_it_fits_the_screen_and_logs_no_error(open_page, width, height):
    opened = open_page(width=width, height=height)
    opened.call("step(argument)", 3)
    opened.page.click('[data-neuron="L1.n0"]', position={"x": 20, "y": 10})
    scroll = opened.page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width


def test_the_command_writes_the_page(tmp_path, capsys, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    assert main(["play", "--out", str(tmp_path / "lesson"), "--open"]) == 0
    page = tmp_path / "lesson"
    assert page.is_file() and opened == [page.resolve().as_uri()]
    assert f"wrote {page}" in capsys.readouterr().out
    assert main(["play", "--out", f"{tmp_path}/"]) == 0
    assert (tmp_path / "playground.html").stat().st_size < MAX_PAGE_BYTES


def test_the_command_refuses_a_path_it_cannot_write(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "play", "--out", str(tmp_path / "file" / "p.html")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "is a file" in done.stderr.strip().splitlines()[-1]


def test_blobs_are_two_gaussian_clouds():
    points, labels = data.blobs(400, noise=0.2, seed=3)
    assert sorted(set(labels)) == [-1, 1] and labels.count(1) == 200
    for label, centre in ((-1, -1.0), (1, 1.0)):
        mine = [p for p, y in zip(points, labels) if y == label]
        mean = [sum(p[k] for p in mine) / len(mine) for k in (0, 1)]
        assert mean == pytest.approx([centre, centre], abs=0.05)
    assert data.blobs(10, seed=1) == data.blobs(10, seed=1) != data.blobs(10, seed=2)
    with pytest.raises(ValueError, match="blobs: noise"):
        data.blobs(10, noise=-1.0)
    assert json.loads(json.dumps(data.blobs(2, noise=0.0))) == [[[-1.0, -1.0], [1.0, 1.0]], [-1, 1]]
