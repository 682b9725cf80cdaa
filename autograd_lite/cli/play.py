"""`autograd-lite play`: write the live training page (and open it in the browser).

One HTML file, with nothing to fetch: a small network trains on a 2-D dataset with the
JavaScript that `autograd-lite export` writes; paused, a click on a weight or a neuron shows
its gradient with the numbers of the last step. The settings live in the page's URL.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser

from autograd_lite.cli.options import output_path


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "play",
        help="write the live training page: a playground with the chain rule inside",
        description=(
            "Write one self-contained HTML page where a small network trains live in the "
            "browser (datasets, features, layers, activation, loss, learning rate, "
            "regularization, batch size), with the JavaScript that `autograd-lite export` "
            "writes. Pause, then click a weight or a neuron to see ∂E/∂w = δ · a and "
            "δ = σ′(z) · Σ w δ_next with the numbers of the last step."
        ),
    )
    parser.add_argument(
        "--out",
        type=output_path("playground.html"),
        default="playground.html",
        metavar="FILE",
        help="where to write the page (default: playground.html; FOLDER/playground.html "
        "when FILE is a folder)",
    )
    parser.add_argument(
        "--open", action="store_true", help="open the page in the default web browser"
    )
    parser.set_defaults(run=run, play_parser=parser)


def run(args: argparse.Namespace) -> int:
    # imported here: the other commands need not build the page's code
    from autograd_lite.visualize.play_page import export_play_html

    path = export_play_html(args.out, add_suffix=False)  # exactly the path given
    print(f"wrote {path} ({path.stat().st_size // 1000} KB): open it in a browser")
    if args.open and not webbrowser.open(path.resolve().as_uri()):
        print(f"autograd-lite play: no browser to open; open {path} yourself", file=sys.stderr)
    return 0
