"""`autograd-lite demo`: train a small network on a built-in dataset and save it.

By default it trains MLP(2, [16, 16, 1]) with relu hidden layers and a linear output on 100
moons points (noise 0.1): hinge loss + 1e-4 * L2, plain SGD with learning rate
1.0 - 0.9 * k / 100 at step k, 100 full-batch steps. It prints the final loss and accuracy,
how long a step took (--backend picks the engine or a replay of the traced step), a text map
of the decision boundary, and writes model.json (and network.svg when Graphviz can draw) to
--out.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from autograd_lite import no_grad
from autograd_lite.cli.options import finite_number, positive_int, writable_folder
from autograd_lite.decision_map import decision_map, decision_map_legend
from autograd_lite.nn import (
    ACTIVATIONS,
    DEFAULT_OUTPUT_ACTIVATION,
    MLP,
    SGD,
    DivergenceError,
    data,
)
from autograd_lite.notation import shown
from autograd_lite.program import BACKENDS, BackendUnavailableError
from autograd_lite.training import History, evaluate, fit, forward_pass


@dataclass(frozen=True)
class Recipe:
    """How the demo trains on one dataset."""

    loss: str
    lr: float  # learning rate at step 0; it falls linearly to lr / 10 at the last step
    activation: str
    noise: float  # standard deviation of the points' noise
    describe: str


RECIPES = {
    "moons": Recipe("hinge", 1.0, "relu", 0.1, "two interleaving half circles"),
    "circles": Recipe("hinge", 1.0, "relu", 0.05, "a circle inside a circle"),
    "xor": Recipe("hinge", 0.3, "relu", 0.0, "the 4 corners of XOR"),
    "spiral": Recipe("softmax_cross_entropy", 1.0, "relu", 0.2, "3 spiral arms, 3 classes"),
    "sine": Recipe("mse", 0.1, "tanh", 0.0, "regression of sin(x)"),
}
SPIRAL_CLASSES = 3
DEFAULT_L2 = 1e-4
DEFAULT_SAMPLES = 100  # xor: its 4 exact corners, unless --samples or --noise asks for more
MAX_NOISE = 10.0  # far beyond any dataset's scale (about 1): a larger one is a typo


def _layer_sizes(text: str) -> list[int]:
    """'16,16' -> [16, 16]."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected hidden layer sizes like 16,16 (positive integers), got {text!r}"
        )
    return sizes


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "demo",
        help="train a small network on a built-in dataset and save it",
        description=__doc__.split("\n\n", 1)[1],
    )
    add = parser.add_argument
    add("--dataset", choices=RECIPES, default="moons", help="what to learn (default: moons)")
    add(
        "--samples",
        type=positive_int,
        metavar="N",
        help=f"number of points (default: {DEFAULT_SAMPLES}; for xor, its 4 exact corners "
        "unless --noise is given)",
    )
    add(
        "--noise",
        type=finite_number(0.0, strict=False, maximum=MAX_NOISE),
        metavar="STD",
        help=f"noise of the points, 0 to {MAX_NOISE:g} (default: moons 0.1, circles 0.05, "
        "spiral 0.2, sine and xor 0)",
    )
    add(
        "--hidden",
        type=_layer_sizes,
        default=[16, 16],
        metavar="SIZES",
        help="hidden layer sizes (default: 16,16)",
    )
    add(
        "--activation",
        choices=ACTIVATIONS,
        help="activation of the hidden layers (default: relu; tanh for sine)",
    )
    add(
        "--output-activation",
        choices=ACTIVATIONS,
        default=DEFAULT_OUTPUT_ACTIVATION,
        help=f"activation of the output layer (default: {DEFAULT_OUTPUT_ACTIVATION}, as in "
        "MLP: the losses read raw scores)",
    )
    add(
        "--steps",
        "--epochs",
        type=positive_int,
        default=100,
        metavar="N",
        help="passes over the data; one step each with the full batch (default: 100)",
    )
    add(
        "--lr",
        type=finite_number(0.0, strict=True),
        metavar="RATE",
        help="learning rate at step 0, falling linearly to a tenth of it "
        "(default: 1.0; xor 0.3, sine 0.1)",
    )
    add(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="samples per step (default: all of them)",
    )
    add(
        "--l2",
        type=finite_number(0.0, strict=False),
        default=DEFAULT_L2,
        metavar="STRENGTH",
        help="L2 penalty added to the loss (default: 1e-4)",
    )
    add("--seed", type=int, default=0, help="seed of the data and of the weights (default: 0)")
    add(
        "--out",
        type=writable_folder,  # checked before training; made after it
        default="autograd-lite-out",
        metavar="FOLDER",
        help="where model.json and network.svg go (default: autograd-lite-out)",
    )
    add(
        "--backend",
        choices=("engine", *BACKENDS),
        default="engine",
        help="how each step computes the gradients: the engine's graph (default) or a traced "
        "program replayed in pure python, numpy or c",
    )
    add("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)


def _usage_error(message: str) -> int:
    print(f"autograd-lite demo: error: {message}", file=sys.stderr)
    return 2


def _dataset(name: str, samples: int, noise: float | None, seed: int) -> tuple[list, list]:
    if name == "moons":
        return data.moons(samples, noise, seed)
    if name == "circles":
        return data.circles(samples, noise, seed=seed)
    if name == "xor":
        return data.xor(labels=(-1, 1), n=samples, noise=noise, seed=seed)
    if name == "spiral":
        return data.spiral(samples // SPIRAL_CLASSES, SPIRAL_CLASSES, noise, seed)
    return data.sine(samples, noise, seed)


def run(args: argparse.Namespace) -> int:
    recipe = RECIPES[args.dataset]
    noise = recipe.noise if args.noise is None else args.noise
    activation = args.activation or recipe.activation
    start_lr = recipe.lr if args.lr is None else args.lr
    samples = args.samples or DEFAULT_SAMPLES
    if args.dataset == "xor" and args.samples is None and args.noise is None:
        samples = 4  # the truth table itself
    minimum = {"spiral": 2 * SPIRAL_CLASSES, "sine": 1, "xor": 4}.get(args.dataset, 2)
    if samples < minimum:
        return _usage_error(f"--samples must be at least {minimum} for {args.dataset}")

    points, targets = _dataset(args.dataset, samples, noise, args.seed)
    outputs = SPIRAL_CLASSES if recipe.loss == "softmax_cross_entropy" else 1
    model = MLP(
        len(points[0]),
        [*args.hidden, outputs],
        activation=activation,
        output_activation=args.output_activation,
        seed=args.seed,
    )
    steps = args.steps * -(-len(points) // (args.batch_size or len(points)))
    optimizer = SGD(model.parameters(), lr=lambda k: start_lr * (1.0 - 0.9 * k / steps))

    if args.batch_size:
        schedule = f"{args.steps} epochs in batches of {args.batch_size} ({steps} steps)"
    else:
        schedule = f"{steps} steps, full batch"
    penalty = f" + {args.l2:g} * L2" if args.l2 else ""
    about = f"{recipe.describe}, noise {noise:g}"
    print(f"Training {model.describe()}")
    print(f"  on {len(points)} {args.dataset} points ({about}), seed {args.seed}")
    print(f"  loss: {recipe.loss}{penalty}")
    print(f"  SGD, lr {start_lr:g} falling to {start_lr / 10:.3g}; {schedule}")
    try:
        history = fit(
            model, points, targets, loss=recipe.loss, optimizer=optimizer, epochs=args.steps,
            batch_size=args.batch_size, l2=args.l2, seed=args.seed,
            progress=not args.no_progress, description=args.dataset, backend=args.backend,
        )  # fmt: skip
    except BackendUnavailableError as error:
        print(f"autograd-lite demo: {error}", file=sys.stderr)
        return 1
    except DivergenceError as error:
        sys.stdout.flush()
        print(f"autograd-lite demo: {error}", file=sys.stderr)
        cure = f"try a smaller --lr (the default for {args.dataset} is {recipe.lr:g})"
        if args.l2 > 1.0:  # a penalty this strong can blow up on its own
            cure += f" or a smaller --l2 (the default is {DEFAULT_L2:g})"
        print(f"  {cure}; nothing was saved", file=sys.stderr)
        return 1
    print(_step_time(history, args.backend))
    loss, accuracy = evaluate(model, points, targets, loss=recipe.loss, l2=args.l2)
    # the bar's loss= is the last step's, measured before its update; this one is after it
    result = f"final loss {shown(loss, '.4f')} (after the last update)"
    if accuracy is not None:
        correct = round(accuracy * len(points))
        result += f", accuracy {accuracy:.0%} ({correct}/{len(points)} points right)"
    print(result)
    if len(points[0]) == 2:
        print("\nWhat the network learned (the plane, each character a spot of it):")
        print(decision_map(model, points, targets))
        print(decision_map_legend(targets))
    print()
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        model_path = model.save(args.out / "model.json")
    except OSError as error:
        print(f"autograd-lite demo: cannot write to {args.out}: {error}", file=sys.stderr)
        return 1
    print(f"saved the model:   {model_path}  (load it with MLP.load)")
    hardest = _backward_with_hardest_last(model, points, targets, recipe.loss, args.l2)
    print(_draw_network(model, args.out, points[hardest]))
    return 0


def _step_time(history: History, backend: str) -> str:
    """'a step took 1.2 ms (median; python replay, tracing included in the first)'."""
    seconds = sorted(history.seconds)[len(history.seconds) // 2]
    how = "the engine" if backend == "engine" else f"{backend} replay of the traced program"
    if history.retraces:  # a decision recorded at trace time went the other way
        how += f", traced again {history.retraces} time{'s' * (history.retraces != 1)}"
    return f"a step took {seconds * 1e3:.3g} ms (median of {len(history)}; {how})"


def _backward_with_hardest_last(
    model: MLP, points: list, targets: list, loss: str, l2: float
) -> int:
    """One more forward and backward pass over all points, without an update, so a picture
    shows the trained network's gradients. Each neuron keeps its latest call, so the point
    with the largest loss goes last: the picture shows that point's activations and dE/dz
    (a point the network already gets right with a margin would show no gradient at all).
    Returns that point's index."""
    with no_grad():
        each = [forward_pass(model, [x], [t], loss=loss)[0].data for x, t in zip(points, targets)]
    hardest = each.index(max(each))
    order = [i for i in range(len(points)) if i != hardest] + [hardest]
    total, _ = forward_pass(
        model, [points[i] for i in order], [targets[i] for i in order], loss=loss, l2=l2
    )
    model.zero_grad()
    total.backward()
    return hardest


def _draw_network(model: MLP, out: Path, shown_point: list[float]) -> str:
    """Draw the trained network when the visualize package and Graphviz are available."""
    try:
        from autograd_lite.visualize import draw_network, graphviz_available, render

        if not graphviz_available():
            return "no picture: Graphviz's `dot` is missing (install it: apt-get install graphviz)"
        picture = render(draw_network(model), out / "network", format="svg")
    except ImportError as error:  # visualize (or graphviz, which it uses) is not installed
        return f"no picture: the visualize package cannot draw networks here ({error})"
    point = ", ".join(shown(x, ".3g") for x in shown_point)
    return f"saved the picture: {picture}  (activations and dE/dz at the hardest point, ({point}))"
