"""Draw the pictures of docs/ again, from the commands a user runs.

    python docs/images/regenerate.py          # from the repository, with Graphviz and chromium

* ``neuron-graph.png``, ``xor-network.png``: ``autograd-lite graph --format png``;
* ``demo-network-after.png``: ``autograd-lite demo``, its network picture as PNG;
* ``html-page.png``: ``autograd-lite step --html``, in Debian's chromium (Playwright) at
  backward step 16 of 32, 1280 x 760;
* ``play-*.png``: ``autograd-lite play``'s page, by ``play_screenshots.py`` (next to this file).

``demo-network-before.png``, ``digits-*.png`` come from older code and ``examples/digits.py``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from unittest import mock

import autograd_lite.visualize as visualize
from autograd_lite.cli import main

IMAGES = Path(__file__).resolve().parent
sys.path.insert(0, str(IMAGES))  # play_screenshots.py, beside this file
from play_screenshots import CHROMIUM, FLAGS, screenshot_play_page  # noqa: E402


def screenshot_step_page(page: Path, out: Path, step: int = 16) -> None:
    """The step page at backward step ``step``, as a learner sees it after clicking Next."""
    from playwright.sync_api import sync_playwright  # the dev extra

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 760})
        tab.goto(page.resolve().as_uri())
        tab.click("#phase-backward")
        for _ in range(step):
            tab.click("#next")
        tab.wait_for_timeout(700)  # the edge's animation ends
        tab.screenshot(path=str(out))
        browser.close()


def screenshot_play_pages() -> None:
    """The play page playing, paused with the inspector open, and at a phone's width."""
    screenshot_play_page(IMAGES)


def main_() -> None:
    work = Path(tempfile.mkdtemp())
    main(["graph", "--out", str(work / "graph"), "--format", "png"])
    shutil.copy(work / "graph" / "neuron.png", IMAGES / "neuron-graph.png")
    shutil.copy(work / "graph" / "network.png", IMAGES / "xor-network.png")

    render = visualize.render  # the demo writes SVG; the README shows a PNG of the same

    def as_png(digraph, path, format="svg", **options):
        return render(digraph, path, "png", **options)

    with mock.patch.object(visualize, "render", as_png):
        main(["demo", "--no-progress", "--out", str(work / "demo")])
    shutil.copy(work / "demo" / "network.png", IMAGES / "demo-network-after.png")

    main(["step", "--html", str(work / "page.html")])
    screenshot_step_page(work / "page.html", IMAGES / "html-page.png")
    screenshot_play_pages()
    print(f"wrote the pictures into {IMAGES}")


if __name__ == "__main__":
    main_()
