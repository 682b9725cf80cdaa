"""examples/tour.ipynb runs from top to bottom in a fresh kernel and shows what it says:
the neuron's numbers, its picture inline, the steps, the trained demo network."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from autograd_lite.visualize import graphviz_available  # noqa: E402

TOUR = Path(__file__).resolve().parent.parent / "examples" / "tour.ipynb"


def text_of(cell) -> str:
    return "".join(
        output.get("text", "") for output in cell.outputs if output.output_type == "stream"
    )


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(TOUR, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": TOUR.parent}}
    )
    client.execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_neuron_and_its_steps(executed):
    # by hand: z = 0.15·0.05 + 0.2·0.1 + 0.35, a = σ(z), E = ½ (0.01 − a)²,
    # dE/dw1 = (a − 0.01) · a (1 − a) · x1
    a = 1.0 / (1.0 + math.exp(-(0.15 * 0.05 + 0.2 * 0.1 + 0.35)))
    error, blame = 0.5 * (0.01 - a) ** 2, (a - 0.01) * a * (1.0 - a) * 0.05
    assert text_of(executed[0]) == f"E = {error:.6f}, dE/dw1 = {blame:.6f}\n"
    steps = text_of(executed[2])
    assert steps.count("+=") >= 8 and steps.endswith(f"dE/dw1 = {blame:.6f}\n")


@pytest.mark.skipif(not graphviz_available(), reason="Graphviz's dot is not installed")
def test_pictures_are_drawn_inline(executed):
    for cell in (executed[1], executed[4]):
        (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert "image/svg+xml" in result.data


def test_the_demo_network_learns(executed):
    printed = text_of(executed[3])
    assert printed.startswith("final loss 0.0159, accuracy 100%")
    assert "region '.' predicts -1" in printed
