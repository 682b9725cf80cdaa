"""The HTML pages in a real browser: Debian's chromium, driven headless by Playwright.

One browser serves the whole module. Each test opens an exported file, works the controls
as a learner would and reads what the page shows, comparing it with the engine's numbers;
every page must load with no console error and fetch nothing but itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import neuron_graph

from autograd_lite.narrate import describe_step, node_names
from autograd_lite.nn import MLP, data
from autograd_lite.nn.optim import SGD
from autograd_lite.stepping import backprop_example
from autograd_lite.visualize import edge_ids, export_html, export_training_html, graph_ids


@dataclass
class Opened:
    """A page in the browser, with what it logged and fetched so far."""

    page: object
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def click(self, button: str, times: int = 1) -> None:
        """Click a button like a user (Playwright waits until it is visible and enabled);
        repeats are plain DOM clicks, which run the same handler without the waiting."""
        self.page.click(f"#{button}")
        repeat = "(button, times) => { for (let i = 0; i < times; i++) button.click(); }"
        self.page.eval_on_selector(f"#{button}", repeat, times - 1)

    def position(self) -> int:
        return int(self.page.input_value("#slider"))

    def check_clean(self) -> None:
        assert self.errors == [], "the page logged errors"
        assert len(self.requests) == 1, f"the page fetched more than itself: {self.requests}"


def open_in(browser, path: Path) -> Opened:
    page = browser.new_page(viewport={"width": 1300, "height": 850})
    opened = Opened(page)
    page.on(
        "console", lambda message: message.type == "error" and opened.errors.append(message.text)
    )
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("request", lambda request: opened.requests.append(request.url))
    page.goto(path.as_uri())
    return opened


@pytest.fixture
def open_page(browser):
    """Opens a page for one test, checked for errors and requests at the end."""
    pages = []

    def opener(path: Path) -> Opened:
        pages.append(open_in(browser, path))
        return pages[-1]

    yield opener
    for opened in pages:
        opened.page.close()
        opened.check_clean()


FORWARD = 5  # computed nodes of neuron_graph(): w*x, z, a, a*a, E


def engine_after(steps: int) -> dict[str, str]:
    """Grad of each labelled node after ``steps`` backward steps, as the page writes it."""
    g = neuron_graph()
    stepper = g["E"].backward_steps()
    for _ in range(steps):
        next(stepper)
    return {name: format(v.grad, ".4g") for name, v in g.items()}


def shown_number(opened: Opened, node_id: str, field_name: str = "grad") -> str:
    """The number in a node's grad (or data) text, without the words around it."""
    element = opened.page.locator(f"#{node_id} .{field_name}")
    text = element.text_content()
    prefix = element.get_attribute("data-prefix") or ""
    suffix = element.get_attribute("data-suffix") or ""
    assert text.startswith(prefix) and text.endswith(suffix)
    return text[len(prefix) : len(text) - len(suffix)]


@pytest.fixture(scope="module")
def neuron_page(browser, tmp_path_factory):
    """The page of neuron_graph(), opened once for the tests below, each starting at Reset."""
    g = neuron_graph()
    path = export_html(g["E"], tmp_path_factory.mktemp("neuron") / "neuron")
    opened = open_in(browser, path)
    yield g, graph_ids(g["E"]), opened
    opened.page.close()
    opened.check_clean()


@pytest.fixture
def neuron(neuron_page):
    g, ids, opened = neuron_page
    opened.page.select_option("#speed", "3")
    opened.click("reset")
    yield g, ids, opened
    opened.check_clean()


def test_next_shows_the_engines_grads_and_previous_undoes(neuron):
    g, ids, opened = neuron
    for steps in (1, 2, 9):  # the seed, then N backward steps
        target = FORWARD + 1 + steps
        opened.click("next", target - opened.position())
        expected = engine_after(steps)
        for name in ("x", "w", "z", "a", "E"):
            assert shown_number(opened, ids[g[name]]) == expected[name], (steps, name)
    opened.click("previous")
    expected = engine_after(8)
    assert [shown_number(opened, ids[g[n]]) for n in "xwb"] == [expected[n] for n in "xwb"]
    assert opened.page.is_disabled("#next") is False


def test_each_step_shows_the_narration_and_highlights_its_edge_and_nodes(neuron):
    g, ids, opened = neuron
    edges = edge_ids(g["E"])
    fresh = neuron_graph()  # the same graph, stepped by the engine
    steps = list(fresh["E"].backward_steps())
    opened.click("next", FORWARD + 1 + 5)
    assert opened.page.text_content("#formula") == describe_step(
        steps[4], names=node_names(fresh["E"])
    )
    node_id, input_id = ids[g["a"]], ids[g["z"]]  # the 5th step: a = tanh(z) sends to z
    assert "sending" in opened.page.get_attribute(f"#{node_id}", "class")
    assert "receiving" in opened.page.get_attribute(f"#{input_id}", "class")
    assert "current" in opened.page.get_attribute(f"#{edges[g['z'], g['a']]}", "class")
    assert opened.page.locator("#picture .receiving").count() == 1
    assert opened.page.locator("g.edge.current").count() == 1


def test_forward_pass_fills_in_values_one_node_at_a_time(neuron):
    g, ids, opened = neuron
    assert shown_number(opened, ids[g["x"]], "data") == "0.5"  # leaves are known
    assert shown_number(opened, ids[g["z"]], "data") == "?"
    opened.click("next", 2)  # w*x, then z
    assert shown_number(opened, ids[g["z"]], "data") == format(-0.5, ".4g")
    assert shown_number(opened, ids[g["a"]], "data") == "?"
    assert "pending" in opened.page.get_attribute(f"#{ids[g['a']]}", "class")
    assert opened.page.text_content("#formula").startswith("z = ")


def test_slider_keys_and_reset_jump(neuron):
    g, ids, opened = neuron
    slider_to = (
        "(slider, value) => { slider.value = value; slider.dispatchEvent(new Event('input')); }"
    )
    opened.page.eval_on_selector("#slider", slider_to, FORWARD + 1 + 6)
    assert shown_number(opened, ids[g["b"]]) == engine_after(6)["b"]
    opened.page.locator("body").press("ArrowRight")
    assert opened.position() == FORWARD + 1 + 7
    opened.page.locator("body").press("End")
    assert shown_number(opened, ids[g["x"]]) == engine_after(9)["x"]
    assert opened.page.is_disabled("#next")
    opened.click("reset")
    assert opened.position() == 0 and shown_number(opened, ids[g["x"]]) == "0"
    opened.click("phase-backward")
    assert opened.position() == FORWARD + 1 and shown_number(opened, ids[g["E"]]) == "1"


def test_play_runs_to_the_end_and_pause_stops(neuron):
    g, ids, opened = neuron
    opened.page.select_option("#speed", "30")
    opened.click("play")
    opened.page.wait_for_function("document.getElementById('slider').value === '15'")
    assert opened.page.text_content("#play").endswith("Play")  # it paused itself at the end
    assert shown_number(opened, ids[g["w"]]) == engine_after(9)["w"]


def test_a_16_16_network_page_replays_to_the_end(open_page, tmp_path):
    model = MLP(2, [16, 16, 1], seed=0)
    output = model([0.5, -1.0])
    path = export_html(output, tmp_path / "big")
    ids = graph_ids(output)
    output.backward()
    first = model.layers[0].neurons[0]
    opened = open_page(path)
    opened.page.locator("body").press("End")
    assert shown_number(opened, ids[first.z]) == format(first.z.grad, ".4g")
    assert shown_number(opened, ids[first.a]) == format(first.a.grad, ".4g")
    norm = sum(p.grad**2 for p in first.parameters()) ** 0.5
    assert shown_number(opened, ids[first.z], "params") == format(norm, ".4g")


def test_training_page_slides_over_epochs(open_page, tmp_path):
    points, targets = data.xor()
    model = MLP(2, [3, 1], seed=0)
    path = export_training_html(
        model,
        points,
        targets,
        tmp_path / "xor",
        epochs=8,
        optimizer=SGD(model.parameters(), lr=0.3),
    )
    twin = MLP(2, [3, 1], seed=0)  # trained by hand to epoch 3: w = w - 0.3 dE/dw
    for _ in range(3):
        outputs = [twin(x) for x in points]
        error = sum((o - t) ** 2 for o, t in zip(outputs, targets)) / len(points)
        twin.zero_grad()
        error.backward()
        for p in twin.parameters():
            p.data -= 0.3 * p.grad
    opened = open_page(path)
    assert opened.page.get_attribute("#slider", "max") == "8"
    opened.click("next", 3)
    w0 = twin.layers[0].neurons[0].w[0]
    assert opened.page.text_content("#row-L0\\.n0\\.w0 .weight") == format(w0.data, ".3g")
    assert opened.page.text_content("#epoch-number") == "3"
    edge = opened.page.locator("[id='L0.n0.w0'] path").first
    assert float(edge.get_attribute("stroke-width")) > 0


# The boxes of the picture's nodes (and the root's, the error E) on screen, and the rectangles
# they must lie in: the viewport, the picture pane as shown (without its scroll bars), the
# side panel (beside the picture, or under it in a narrow window) and the zoom buttons.
BOXES = """() => {
    const rect = (r) => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
    const data = JSON.parse(document.getElementById('page-data').textContent);
    const pane = document.getElementById('picture');
    const outer = pane.getBoundingClientRect();
    return {
        nodes: Array.from(pane.querySelectorAll('g.node')).map(
            (node) => rect(node.getBoundingClientRect())),
        root: rect(document.getElementById(data.nodes[data.seed.node].id).getBoundingClientRect()),
        pane: {left: outer.left + pane.clientLeft, top: outer.top + pane.clientTop,
               right: outer.left + pane.clientLeft + pane.clientWidth,
               bottom: outer.top + pane.clientTop + pane.clientHeight},
        panel: rect(document.querySelector('.panel').getBoundingClientRect()),
        zoom: rect(document.querySelector('.zoom').getBoundingClientRect()),
        viewport: {left: 0, top: 0, right: innerWidth, bottom: innerHeight},
    }; }"""


def inside(box: dict, area: dict) -> bool:
    return (
        box["left"] >= area["left"] - 0.5
        and box["right"] <= area["right"] + 0.5
        and box["top"] >= area["top"] - 0.5
        and box["bottom"] <= area["bottom"] + 0.5
    )


def overlap(one: dict, other: dict) -> bool:
    return (
        one["left"] < other["right"]
        and other["left"] < one["right"]
        and one["top"] < other["bottom"]
        and other["top"] < one["bottom"]
    )


@pytest.mark.parametrize("size", [(1280, 800), (1024, 640), (700, 900)])
def test_the_page_opens_with_the_whole_graph_and_the_error_in_view(browser, tmp_path, size):
    # the error E, at the right end of the 2-2-2 example, used to open hidden beyond the
    # pane's right edge, where the side panel starts: the page opened scrolled to the left
    path = export_html(backprop_example().error, tmp_path / "example")
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(path.as_uri())
        boxes = page.evaluate(BOXES)
        root = boxes["root"]
        assert inside(root, boxes["viewport"]) and inside(root, boxes["pane"]), boxes
        assert not overlap(root, boxes["panel"]) and not overlap(root, boxes["zoom"])
        assert all(inside(node, boxes["pane"]) for node in boxes["nodes"])  # the whole graph
        assert not any(overlap(node, boxes["zoom"]) for node in boxes["nodes"])
        page.click("#next")  # stepping zooms in to readable text (see the test below) ...
        page.click("#reset")  # ... and Reset shows the whole graph again
        page.evaluate("() => window.scrollTo(0, 0)")  # a narrow page scrolled to its buttons
        assert page.evaluate(BOXES) == boxes
    finally:
        page.close()


@pytest.mark.parametrize("size", [(1024, 640), (1600, 900)])
def test_the_graph_text_is_readable_and_follows_the_step(browser, tmp_path, size):
    # at 1024×640 the 2-2-2 example used to be stepped fitted to the pane: text about 5 px
    # high. It opens whole (the test above); the steps are shown at a readable size.
    path = export_html(backprop_example().error, tmp_path / "example")
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(path.as_uri())
        smallest_text = """() => Math.min(...Array.from(document.querySelectorAll(
            '#picture g.node text')).map(t => t.getBoundingClientRect().height)
            .filter(h => h > 0))"""
        in_view = """() => {
            const view = document.getElementById('picture').getBoundingClientRect();
            return Array.from(document.querySelectorAll('#picture g.node.sending, '
                + '#picture g.node.receiving')).map((node) => {
                const box = node.getBoundingClientRect();
                return box.left >= view.left && box.right <= view.right
                    && box.top >= view.top && box.bottom <= view.bottom; }); }"""
        for steps in (1, 12, 26, 40, 55):  # forward pass, then the backward pass
            page.evaluate(
                f"() => {{ for (let i = 0; i < {steps}; i++) "
                "document.getElementById('next').click(); }"
            )
            assert page.evaluate(smallest_text) >= 10, f"small text at step {steps}"
            shown = page.evaluate(in_view)
            assert shown and all(shown), f"the nodes of step {steps} are out of view"
            page.click("#reset")
        page.click("#zoom-fit")  # the whole picture, fitted to the pane
        fitted = page.evaluate("""() => {
            const svg = document.querySelector('#picture svg').getBoundingClientRect();
            const pane = document.getElementById('picture');
            return svg.width <= pane.clientWidth && svg.height <= pane.clientHeight; }""")
        assert fitted
        svg_width = "() => document.querySelector('#picture svg').getBoundingClientRect().width"
        chosen = page.evaluate(svg_width)
        page.click("#next")  # a zoom the learner chose stays while stepping
        assert page.evaluate(svg_width) == chosen
        page.click("#zoom-readable")
        assert page.evaluate(smallest_text) >= 10
    finally:
        page.close()
