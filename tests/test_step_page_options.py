"""export_html's file name (add_suffix), its step limit (counted as the page shows the steps),
its explanation panel (in the page data, and opened in a real browser) and its digits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import neuron_graph

from autograd_lite import Value
from autograd_lite.visualize import export_html


def page_data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    blob = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S)
    return json.loads(blob.group(1))


def test_the_suffix_is_added_unless_add_suffix_is_false(tmp_path):
    g = neuron_graph()
    assert export_html(g["E"], tmp_path / "steps") == tmp_path / "steps.html"
    assert export_html(g["E"], tmp_path / "steps.htm") == tmp_path / "steps.htm"
    assert export_html(g["E"], tmp_path / "exact", add_suffix=False) == tmp_path / "exact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exact", "steps.htm", "steps.html"]


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"path": ""}, ValueError, "export_html: path must name a file, got ''"),
        ({"add_suffix": 1}, TypeError, "export_html: add_suffix must be a bool, got int 1"),
        ({"explanation": 3}, TypeError, "export_html: explanation must be a str or None"),
    ],
)
def test_bad_arguments_are_named(tmp_path, monkeypatch, options, error, words):
    monkeypatch.chdir(tmp_path)
    arguments = {"path": "p.html", **options}
    with pytest.raises(error, match=re.escape(words)):
        export_html(neuron_graph()["E"], **arguments)
    assert not list(tmp_path.iterdir())


def test_max_steps_counts_the_steps_the_page_shows(tmp_path):
    x = Value(2.0, label="x")
    y = (x * 3.0).tanh()  # edges: tanh <- *, * <- x, * <- the constant 3 (hidden by default)
    page = export_html(y, tmp_path / "p.html", max_steps=2)
    assert len(page_data(page)["backward"]) == 2  # the limit is exactly what is shown
    with pytest.raises(ValueError, match="has 3 steps, more than max_steps=2"):
        export_html(y, tmp_path / "q.html", max_steps=2, show_constants=True)
    assert not (tmp_path / "q.html").exists()


def test_a_g_format_gives_the_sentences_its_digits(tmp_path):
    g = neuron_graph()  # E = tanh(w x + b)² + x, x = 0.5, w = -1.5, b = 0.25: z = -0.5
    record = page_data(export_html(g["E"], tmp_path / "p.html", number_format=".7g"))
    texts = "\n".join(step["text"] for step in record["forward"])
    assert "a = tanh(z) = tanh((-0.5)) = -0.4621172" in texts  # tanh(0.5) = 0.46211715726...
    record = page_data(export_html(g["E"], tmp_path / "p.html"))
    assert "tanh((-0.5)) = -0.4621\n" in "\n".join(step["text"] for step in record["forward"])


def test_the_explanation_opens_in_a_panel_of_the_page(tmp_path, browser):
    text = "E = 6\n  dE/dx = 4 + 1 = 5   <not a tag>"
    with_text = export_html(neuron_graph()["E"], tmp_path / "with.html", explanation=text)
    without = export_html(neuron_graph()["E"], tmp_path / "without.html")
    page = browser.new_page(viewport={"width": 1300, "height": 850})
    try:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(with_text.as_uri())
        assert not page.is_visible("#explanation pre")  # closed until asked for
        page.click("#explanation summary")
        assert page.is_visible("#explanation pre")
        assert page.inner_text("#explanation pre") == text  # as text, not as HTML
        page.click("#next")  # the stepping still works beside it
        assert page.input_value("#slider") == "1"
        page.goto(without.as_uri())
        assert page.query_selector("#explanation") is None
        assert errors == []
    finally:
        page.close()
