"""The screenshots of the play page in docs/, from the command a user runs.

    python docs/images/play_screenshots.py    # from the repository, with Debian's chromium

* ``play-playing.png``: `autograd-lite play`'s page at 1280 x 800, playing on moons;
* ``play-inspector.png``: paused at step 120, the weight L1.n2.w1 clicked (1280 x 1000);
* ``play-phone.png``: the same page at 390 x 844, the width of a phone.

``regenerate.py`` calls ``screenshot_play_page`` with the other pictures.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from autograd_lite.cli import main

IMAGES = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _click_weight(tab, name: str) -> None:
    """Click a weight's line where it is on top, as a learner's mouse would."""
    point = tab.evaluate(
        """name => {
            const path = document.querySelector(`[data-name="${name}"]`);
            const length = path.getTotalLength(), matrix = path.getScreenCTM();
            for (let k = 1; k < 20; k++) {
                const p = path.getPointAtLength(length * k / 20);
                const x = p.x * matrix.a + matrix.e, y = p.y * matrix.d + matrix.f;
                if (document.elementFromPoint(x, y) === path) return [x, y];
            }
            return null;
        }""",
        name,
    )
    tab.mouse.click(*point)


def screenshot_play_page(images: Path = IMAGES) -> list[Path]:
    """Write the three screenshots into ``images``; returns their paths."""
    from playwright.sync_api import sync_playwright  # the dev extra

    page = Path(tempfile.mkdtemp()) / "playground.html"
    main(["play", "--out", str(page)])
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)

        tab = browser.new_page(viewport={"width": 1280, "height": 800})
        tab.goto(page.as_uri())
        tab.evaluate("window.autogradLite.step(900)")
        tab.click("#play")
        tab.wait_for_timeout(1500)  # playing: the map moves, the loss goes down
        written.append(images / "play-playing.png")
        tab.screenshot(path=str(written[-1]))
        tab.close()

        tab = browser.new_page(viewport={"width": 1280, "height": 1000})
        tab.goto(page.as_uri())
        tab.evaluate("window.autogradLite.step(120)")
        _click_weight(tab, "L1.n2.w1")
        tab.click("#toggle-samples")
        tab.evaluate("window.scrollTo(0, 0)")
        written.append(images / "play-inspector.png")
        tab.screenshot(path=str(written[-1]))
        tab.close()

        tab = browser.new_page(viewport={"width": 390, "height": 844})
        tab.goto(page.as_uri())
        tab.evaluate("window.autogradLite.step(700)")
        written.append(images / "play-phone.png")
        tab.screenshot(path=str(written[-1]))
        browser.close()
    return written


if __name__ == "__main__":
    for path in screenshot_play_page():
        print(f"wrote {path}")
