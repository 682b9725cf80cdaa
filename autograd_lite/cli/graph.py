"""`autograd-lite graph`: (to be written)."""

from __future__ import annotations

import argparse


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser("graph", help="(not written yet)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("autograd-lite graph: not written yet")
    return 1
