"""`autograd-lite export`: write a training step as a standalone Python, C or JavaScript file.

By default the notes' worked example, Matt Mazur's "A Step by Step Backpropagation Example"
(``autograd_lite.nn.worked_example()``: its 2-2-2 sigmoid network and its sample); with
``MODEL.json`` (from ``MLP.save``) that model, on the sample given by ``--inputs`` and
``--targets``. The file is written to standard output, or to ``-o FILE``. Running it does one
step of gradient descent and prints the error, every gradient and the error after the step.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from autograd_lite.cli.options import finite_number, output_file, read_model
from autograd_lite.nn import (
    MLP,
    WorkedExample,
    binary_cross_entropy_with_logits,
    hinge_loss,
    mean_squared_error,
    softmax_cross_entropy,
    worked_example,
)
from autograd_lite.stepping import labelled_error

# --loss name -> (loss of (outputs, targets), what it is)
LOSSES: dict[str, tuple[Callable, str]] = {
    "E": (labelled_error, "the notes' error E = Σ ½ (t − a)², one target per output"),
    "mse": (mean_squared_error, "mean squared error, one target per output"),
    "bce-logits": (binary_cross_entropy_with_logits, "cross-entropy of σ(output), targets 0/1"),
    "hinge": (hinge_loss, "max(0, 1 − t × output), targets −1/+1"),
    "softmax-ce": (softmax_cross_entropy, "softmax cross-entropy; one target: the class number"),
}


def _sample_number(text: str) -> float:
    """A finite number; a file name here was swallowed by --inputs/--targets: say so."""
    try:
        return finite_number()(text)
    except argparse.ArgumentTypeError as error:
        if text.endswith(".json"):
            raise argparse.ArgumentTypeError(
                f"{error}; write MODEL.json before --inputs and --targets"
            ) from None
        raise


def register(subcommands: argparse._SubParsersAction) -> None:
    from autograd_lite.export import LANGUAGES

    parser = subcommands.add_parser(
        "export",
        help="write a training step as a standalone Python, C or JavaScript file",
        description=(
            "Write one step of training (forward, backward, one step of gradient descent) as "
            "a standalone source file that prints the error and every gradient: for the "
            "notes' worked example (Matt Mazur's 2-2-2 sigmoid network), or for a model "
            "saved with MLP.save (loop form: one loop per layer over its neurons and inputs)."
        ),
    )
    parser.add_argument("model", nargs="?", metavar="MODEL.json", help="a model saved by MLP.save")
    parser.add_argument("--lang", required=True, choices=LANGUAGES, help="language of the file")
    parser.add_argument(
        "-o", "--output", type=output_file, metavar="FILE", help="write here (default: stdout)"
    )
    sample = parser.add_argument_group("the sample and the error (default: the worked example)")
    sample.add_argument(
        "--inputs", nargs="+", type=_sample_number, metavar="X",
        help="input values (default: 0.05 0.10)",
    )  # fmt: skip
    sample.add_argument(
        "--targets", nargs="+", type=_sample_number, metavar="T",
        help="targets: one per output, or the class for softmax-ce (default: 0.01 0.99)",
    )  # fmt: skip
    sample.add_argument(
        "--loss",
        choices=list(LOSSES),
        default="E",
        help="the error: " + "; ".join(f"{name}: {what}" for name, (_, what) in LOSSES.items()),
    )
    sample.add_argument(
        "--lr", type=finite_number(0.0, strict=True), default=0.5, help="learning rate (0.5)"
    )
    parser.set_defaults(run=run, export_parser=parser)


def _model(args: argparse.Namespace, worked: WorkedExample) -> MLP:
    return worked.model if args.model is None else read_model("export", args.model)


def _targets(
    args: argparse.Namespace, model: MLP, fail: Callable[[str], None], worked: WorkedExample
) -> object:
    outputs = model.nouts[-1]
    if args.loss == "softmax-ce":
        if args.targets is None or len(args.targets) != 1 or not args.targets[0].is_integer():
            fail(f"--targets: give the class number, 0 to {outputs - 1}, for softmax-ce")
        return int(args.targets[0])
    targets = args.targets
    if targets is None:
        if outputs != len(worked.targets):
            fail(f"--targets: give {outputs} number(s), one per output of the model")
        targets = worked.targets
    if len(targets) != outputs:
        fail(f"--targets: got {len(targets)} numbers but the model has {outputs} outputs")
    return targets


def run(args: argparse.Namespace) -> int:
    from autograd_lite.export import export_model

    fail = args.export_parser.error
    worked = worked_example()  # the default network and sample
    model = _model(args, worked)
    inputs = args.inputs
    if inputs is None:
        if model.nin != len(worked.inputs):
            fail(f"--inputs: give {model.nin} numbers, one per input of the model")
        inputs = worked.inputs
    if len(inputs) != model.nin:
        fail(f"--inputs: got {len(inputs)} numbers but the model has {model.nin} inputs")
    targets = _targets(args, model, fail, worked)
    try:
        source = export_model(model, inputs, targets, args.lang, LOSSES[args.loss][0], args.lr)
    except (ValueError, TypeError, ArithmeticError) as error:  # a target the loss refuses,
        fail(str(error))  # a weight so large the forward pass overflows
    if args.output is None:
        sys.stdout.write(source)  # a closed pipe (`| head`) is handled once, in cli.main
        return 0
    args.output.write_text(source, encoding="utf-8")
    print(f"wrote {args.output} ({args.lang}, {source.count(chr(10))} lines)", file=sys.stderr)
    return 0
