"""`autograd-lite step`: (to be written)."""

from __future__ import annotations

import argparse


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser("step", help="(not written yet)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("autograd-lite step: not written yet")
    return 1
