"""`autograd-lite step`: watch backpropagation one chain-rule application at a time.

It builds the notes' 2-2-2 sigmoid network with the numbers of their worked example, Matt
Mazur's "A Step by Step Backpropagation Example" (or a network chosen by options), shows
the forward pass node by node, then applies the chain rule one step per Enter key: each
step shows its formula with the numbers and the gradients so far. ``--no-pause`` prints
every step at once, for pipes and files.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Iterable

from autograd_lite.cli.options import finite_number, output_path, positive_int, whole_number
from autograd_lite.debugging import BackwardStep
from autograd_lite.engine import Value, topological_order
from autograd_lite.explanation import explain
from autograd_lite.layers import describe_layers, layer_view
from autograd_lite.names import (
    Name,
    Role,
    error_node,
    input_name,
    is_constant_or_target,
    parse,
)
from autograd_lite.narrate import describe_forward, node_names, role_note
from autograd_lite.nn import ACTIVATIONS, DEFAULT_OUTPUT_ACTIVATION, MLP, worked_example
from autograd_lite.nn.worked import LEARNING_RATE  # for the closing gradient-descent line
from autograd_lite.nn.worked import URL as WORKED_EXAMPLE_URL
from autograd_lite.notation import describe_step, factor, rounded, shown, to_ascii
from autograd_lite.stepping import BackpropExample, backprop_example, forward_steps

MAX_ROWS = 8  # a gradient table with more rows shows only the row that changed
# Default limits of --max-steps: each step prints about five lines in the terminal; the
# page's is export_html's own default max_steps (a page per step of more is too big to use)
TERMINAL_MAX_STEPS = 2_000
PAGE_MAX_STEPS = 20_000


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "step",
        help="step through backpropagation, one chain-rule application per Enter key",
        description=(
            "Build a small network (by default the 2-2-2 sigmoid network of Matt Mazur's "
            "worked example, 'A Step by Step Backpropagation Example'), show its forward "
            "pass, then apply the chain rule one step per Enter key, showing each formula "
            "and the gradients so far. q quits."
        ),
    )
    model = parser.add_argument_group("the network (default: the worked example's)")
    model.add_argument(
        "--inputs",
        nargs="+",
        type=finite_number(),
        metavar="X",
        help="input values (default: 0.05 0.10)",
    )
    model.add_argument(
        "--targets",
        nargs="+",
        type=finite_number(),
        metavar="T",
        help="target values, one per output (default: 0.01 0.99, repeated or cut to the "
        "number of outputs)",
    )
    model.add_argument(
        "--layers",
        nargs="+",
        type=positive_int,
        metavar="N",
        default=[2, 2],
        help="neurons per layer; the last is the output (default: 2 2)",
    )
    model.add_argument(
        "--activation",
        choices=list(ACTIVATIONS),
        default="sigmoid",
        help="activation of the hidden layers (default: sigmoid)",
    )
    model.add_argument(
        "--output-activation",
        choices=list(ACTIVATIONS),
        help=f"activation of the output layer (default: {DEFAULT_OUTPUT_ACTIVATION}, as in "
        "MLP; the worked example's sigmoid when the network is that example: 2-2-2, "
        "sigmoid hidden layer, no --seed)",
    )
    model.add_argument(
        "--seed",
        type=int,
        help="draw the weights at random with this seed instead of using the "
        "example's (any other shape than 2-2-2 uses seed 0)",
    )
    model.add_argument(
        "--op-by-op",
        action="store_true",
        help="build each weighted sum from * and + nodes (more steps)",
    )
    show = parser.add_argument_group("showing")
    show.add_argument(
        "--no-pause",
        action="store_true",
        help="print every step without waiting (for pipes and files)",
    )
    show.add_argument(
        "--ascii", action="store_true", help="write d, *, sigma instead of the symbols ∂, ×, σ"
    )
    show.add_argument(
        "--explain",
        action="store_true",
        help="end with each gradient as a chain of local derivatives (with --html: in a "
        "panel of the page)",
    )
    show.add_argument(
        "--digits",
        type=whole_number(1, 17),
        default=4,
        metavar="N",
        help="significant digits of the numbers shown, 1 to 17 (default: 4)",
    )
    show.add_argument(
        "--max-steps",
        type=positive_int,
        metavar="N",
        help=f"refuse a network whose backward pass has more chain-rule steps than this "
        f"(default: {TERMINAL_MAX_STEPS:,} in the terminal, {PAGE_MAX_STEPS:,} for --html)",
    )
    show.add_argument(
        "--show-constants",
        action="store_true",
        help="also show the steps into constants and targets (the 2 of e², the ½, t_k): "
        "their gradients are computed but nobody uses them, so they are hidden by default",
    )
    show.add_argument(
        "--layer-view",
        action="store_true",
        help="after the steps, the same gradients layer by layer: δ = (W)ᵀδ ⊙ σ′(z), "
        "∂E/∂W = δ aᵀ, with the numbers",
    )
    show.add_argument(
        "--html",
        type=output_path("backprop.html"),
        metavar="PATH",
        help="write the steps as an HTML page instead, to exactly PATH (into "
        "PATH/backprop.html when PATH is a folder)",
    )
    parser.set_defaults(run=run, step_parser=parser)


def build_example(args: argparse.Namespace) -> tuple[BackpropExample, str]:
    """The network and sample the options ask for, and a line describing the weights."""
    parser: argparse.ArgumentParser = args.step_parser
    worked = worked_example(op_by_op=args.op_by_op)
    inputs = args.inputs or worked.inputs
    outputs = args.layers[-1]
    targets = args.targets
    if targets is None:  # the example's 0.01, 0.99, repeated or cut to the output layer
        targets = [worked.targets[k % len(worked.targets)] for k in range(outputs)]
    if len(targets) != outputs:
        parser.error(
            f"--targets: got {len(targets)} numbers but the output layer has {outputs} "
            f"neurons (--layers {' '.join(map(str, args.layers))})"
        )
    output_activation = args.output_activation or DEFAULT_OUTPUT_ACTIVATION
    if args.seed is None and len(inputs) == 2 and args.layers == [2, 2]:
        model = worked.model  # sigmoid throughout, unless the options change an activation
        if args.activation != "sigmoid" or args.output_activation not in (None, "sigmoid"):
            activations = {"activation": args.activation, "output_activation": output_activation}
            model = MLP.from_dict({**model.to_dict(), **activations})
        origin = f"the weights and biases of Matt Mazur's worked example ({WORKED_EXAMPLE_URL})"
    else:
        seed = 0 if args.seed is None else args.seed
        model = MLP(
            len(inputs),
            args.layers,
            args.activation,
            output_activation,
            seed=seed,
            op_by_op=args.op_by_op,
        )
        origin = f"weights drawn at random (seed {seed}), biases 0"
    return backprop_example(model, inputs, targets), origin


def chain_rule_steps(root: Value, show_constants: bool = False) -> int:
    """The number of chain-rule steps the backward pass from ``root`` shows: one per edge,
    without those into constants and targets unless ``show_constants``. Counted on the
    graph: no backward pass runs.

    >>> from autograd_lite.stepping import backprop_example
    >>> error = backprop_example().error
    >>> chain_rule_steps(error), chain_rule_steps(error, show_constants=True)
    (32, 38)
    """
    return sum(
        show_constants or not is_constant_or_target(input_)
        for node in topological_order(root)
        for input_ in node.inputs
    )


def _steps_at_least(layers: list[int]) -> int:
    """A lower bound of the chain-rule steps of a network with these layers, known before
    building it (a million weights take seconds to build): one step into each weight and
    bias, and each neuron of the first layer has at least one weight and its bias."""
    return 2 * layers[0] + sum((fan_in + 1) * n for fan_in, n in zip(layers, layers[1:]))


def _too_many_steps(args: argparse.Namespace, steps: int, limit: int, exact: bool) -> int:
    """Refuse, in one line, a network whose backward pass is longer than ``limit``."""
    where = "for --html" if args.html else "in the terminal"
    count, cure = f"{steps:,}", f"--max-steps {steps}"
    if not exact:  # a lower bound, from the layers alone
        count, cure = f"at least {steps:,}", "a larger --max-steps"
    print(
        f"autograd-lite step: error: the backward pass of --layers "
        f"{' '.join(map(str, args.layers))} has {count} chain-rule steps, more than the "
        f"limit of {limit:,} {where}; {cure} allows it (or choose smaller --layers)",
        file=sys.stderr,
    )
    return 2


def _export_html(args: argparse.Namespace, example: BackpropExample, max_steps: int) -> int:
    # imported here: the stepper itself needs only the standard library
    try:
        from autograd_lite.visualize import export_html
    except ImportError as error:
        args.step_parser.error(
            f"--html needs the visualize package and the graphviz Python package ({error}); "
            "try: pip install graphviz"
        )
    target = args.html  # exactly the path given (options.output_path: folder/backprop.html)
    explanation = explain(example.error, digits=args.digits) if args.explain else None
    try:
        path = export_html(
            example.error,
            target,
            show_constants=args.show_constants,
            number_format=f".{args.digits}g",
            max_steps=max_steps,
            explanation=explanation,
            add_suffix=False,
        )
    except OSError as error:
        print(f"autograd-lite step: cannot write {target}: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Build the example the options ask for, then step through it (or write the page)."""
    if args.layer_view and args.op_by_op:
        args.step_parser.error(
            "--layer-view reads one weighted sum per neuron; leave out --op-by-op"
        )
    if args.html:  # options of the terminal stepper would be silently ignored by the page
        for option, given in (("--layer-view", args.layer_view), ("--ascii", args.ascii),
                              ("--no-pause", args.no_pause)):  # fmt: skip
            if given:
                args.step_parser.error(f"{option} is for the terminal; leave it out with --html")
    limit = args.max_steps or (PAGE_MAX_STEPS if args.html else TERMINAL_MAX_STEPS)
    if _steps_at_least(args.layers) > limit:  # refused before building it
        return _too_many_steps(args, _steps_at_least(args.layers), limit, exact=False)
    try:
        example, origin = build_example(args)
    except OverflowError as error:  # e.g. --inputs 1e200 1e200: E = ½ (t - a)² is too large
        print(f"autograd-lite step: the forward pass overflowed: {error}", file=sys.stderr)
        print(
            "  these numbers are too large for floats: try smaller --inputs or --targets",
            file=sys.stderr,
        )
        return 1
    steps = chain_rule_steps(example.error, args.show_constants)
    if steps > limit:
        return _too_many_steps(args, steps, limit, exact=True)
    if args.html:
        return _export_html(args, example, limit)
    ascii = args.ascii or not _can_write("∂×σ−←·", sys.stdout)
    stepper = Stepper(
        example,
        ascii=ascii,
        pause=not args.no_pause,
        show_constants=args.show_constants,
        digits=args.digits,
    )
    stepper.introduce(origin)
    stepper.forward()
    finished = stepper.backward()
    stepper.conclude(finished, show_explanation=args.explain, show_layers=args.layer_view)
    return 0


def _can_write(text: str, stream: object) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class Stepper:
    """Prints one backward pass, step by step, for a learner at a terminal (or a pipe).

    ``read_line`` answers the prompts (default: the keyboard); ``write`` receives each line;
    numbers are shown with ``digits`` significant digits.

    >>> from autograd_lite.stepping import backprop_example
    >>> lines = []
    >>> stepper = Stepper(backprop_example(), pause=False, write=lines.append)
    >>> stepper.backward()
    True
    >>> lines[1]
    'Backward pass: 32 chain-rule steps, from E back to every weight.'
    >>> lines[2]
    '(6 steps into constants and targets are hidden: --show-constants shows them.)'
    """

    def __init__(
        self,
        example: BackpropExample,
        *,
        ascii: bool = False,
        pause: bool = True,
        read_line: Callable[[], str] | None = None,
        write: Callable[[str], object] | None = None,
        show_constants: bool = False,
        digits: int = 4,
    ) -> None:
        self.example = example
        self.show_constants = show_constants
        self.digits = digits
        self.ascii = ascii
        self.pause = pause
        self.read_line = read_line or sys.stdin.readline
        self.write = write or (lambda text: print(text, flush=True))
        self.error = example.error
        self.names = node_names(self.error)
        self.parameters = example.model.parameters()
        self.table = [  # (row title, [(short name, node)]); no t_k cell if its step is hidden
            (
                title,
                [(name, v) for name, v in cells if show_constants or not is_constant_or_target(v)],
            )
            for title, cells in _table_rows(self.error)
        ]

    def rounded(self, x: float) -> str:
        """``x`` with the stepper's significant digits."""
        return rounded(x, self.digits)

    def say(self, text: str = "") -> None:
        """Write one line (in ASCII when asked)."""
        self.write(to_ascii(text) if self.ascii else text)

    def introduce(self, origin: str) -> None:
        """The network's shape, the sample and the starting parameters."""
        model = self.example.model
        shape = " → ".join(
            [f"{model.nin} inputs"]
            + [f"{len(layer.neurons)} {layer.activation}" for layer in model.layers]
        )
        inputs = ", ".join(
            f"{input_name(i)} = {shown(x)}" for i, x in enumerate(self.example.inputs)
        )
        targets = ", ".join(
            f"{error_node(Role.TARGET, k)} = {shown(t)}" for k, t in enumerate(self.example.targets)
        )
        self.say(f"Network: {shape}, with {origin}.")
        self.say(f"Inputs {inputs}; targets {targets}; error E = Σ ½ (t − a)².")
        self.say()
        self.say("Parameters (w weight, b bias):")
        rows = [
            (title, [(n, v) for n, v in cells if not v.inputs and _in_network(v)])
            for title, cells in self.table
        ]
        for title, cells in rows:
            if cells:
                self.say(_row(title, [f"{name}={self.rounded(v.data)}" for name, v in cells]))

    def forward(self) -> None:
        """The forward pass, one computed node per line."""
        self.say()
        self.say("Forward pass: each node from its inputs (z weighted input, a activation)")
        steps = list(forward_steps(self.error))
        width = len(str(len(steps)))
        for step in steps:
            text = describe_forward(step.node, names=self.names, digits=self.digits)
            self.say(f"  {step.number + 1:>{width}}. {text}")

    def backward(self) -> bool:
        """Run the backward pass; False if the learner quit (or the input ended) early."""
        total = chain_rule_steps(self.error, self.show_constants)
        hidden = chain_rule_steps(self.error, show_constants=True) - total
        self.example.model.zero_grad()
        self.say()
        self.say(f"Backward pass: {total} chain-rule steps, from E back to every weight.")
        if hidden:
            self.say(
                f"({hidden} step{'s' * (hidden > 1)} into constants and targets "
                f"{'are' if hidden > 1 else 'is'} hidden: --show-constants shows them.)"
            )
        self.say("Each step: ∂E/∂input += ∂E/∂node × ∂node/∂input (upstream × local).")
        if self.pause:
            self.say("Press Enter for the next step, a for all the rest, q to quit.")
        touched = {self.error}
        for step in self.error.backward_steps(show_constants=self.show_constants):
            if self.pause and not self._wait(step.number, total):
                return False
            touched.add(step.input)
            self.show_step(step, total, touched)
        return True

    def _wait(self, number: int, total: int) -> bool:
        """Wait for Enter before step ``number``; False to stop."""
        while True:
            self.write_prompt(f"[step {number + 1}/{total}] Enter: next, a: all, q: quit > ")
            answer = self.read_line()
            if not answer:  # end of input
                self.say()
                self.say("(input ended: use --no-pause to print every step without waiting)")
                return False
            answer = answer.strip().lower()
            if answer in ("", "a", "q"):
                break
            self.say("Press Enter for the next step, a for all the rest, q to quit.")
        if answer == "a":
            self.pause = False
        return answer != "q"

    def write_prompt(self, text: str) -> None:
        # the prompt stays on the line the learner types on: no newline, unlike say()
        print(text, end="", flush=True)

    def show_step(self, step: BackwardStep, total: int, touched: set[Value]) -> None:
        """One step: its sentence, then the table of gradients so far."""
        node, input_ = self.names[step.node], self.names[step.input]
        self.say()
        where = f"from {node} back to {input_}{role_note(step.input)}"
        self.say(f"Step {step.number + 1} of {total}: {where}")
        self.say("  " + describe_step(step, names=self.names, digits=self.digits))
        self.say("  Gradients so far (· not reached yet, ← this step):")
        for title, cells in self.table:
            if len(self.table) > MAX_ROWS and all(v is not step.input for _, v in cells):
                continue
            cells = [_cell(name, v, touched, step.input, self.digits) for name, v in cells]
            self.say(_row(title, cells))

    def conclude(
        self, finished: bool, *, show_explanation: bool = False, show_layers: bool = False
    ) -> None:
        """The final gradients and one gradient-descent update (or why they are partial);
        ``show_layers`` adds the same gradients layer by layer (``autograd_lite.layers``)."""
        self.say()
        if not finished:
            self.say("Stopped: the gradients above are partial, the rest of the pass never ran.")
            return
        self.say("Done: every gradient is complete, the same numbers backward() leaves.")
        for title, cells in self.table:
            params = [f"{name}={self.rounded(v.grad)}" for name, v in cells if v in self.parameters]
            if params:
                self.say(_row(title, params, prefix="∂E/∂ "))
        if show_layers:
            self.say()
            view = layer_view(self.error, model=self.example.model)  # the model is at hand
            self.say(describe_layers(view, digits=self.digits))
        w = self.example.model.layers[-1].neurons[0].w[0]
        self.say()
        self.say("Next, gradient descent moves every weight against its gradient:")
        self.say(
            f"  w_new = w_old − learning_rate × ∂E/∂w, e.g. with learning_rate {LEARNING_RATE:g}: "
            f"{w.label} = {self.rounded(w.data)} − {LEARNING_RATE:g} × "
            f"{factor(w.grad, self.digits)} = {self.rounded(w.data - LEARNING_RATE * w.grad)}"
        )
        if show_explanation:
            self.say()
            self.say(explain(self.error, digits=self.digits))


def _in_network(node: Value) -> bool:
    """A node of the network itself (w, b, z, a or an input), not of the error."""
    name = parse(node.label)
    return name is not None and (name.role.in_neuron or name.role is Role.INPUT)


def _table_rows(root: Value) -> list[tuple[str, list[tuple[str, Value]]]]:
    """Named nodes in rows: the error's nodes, each neuron (a, z, w.., b), the inputs."""
    neurons: dict[tuple[int, int], list[tuple[Name, Value]]] = {}
    inputs, error = [], []
    for node in reversed(topological_order(root)):
        if not node.label:
            continue
        name = parse(node.label)
        if name is not None and name.role is Role.INPUT:
            inputs.append((name.index, node))
        elif name is not None and name.role.in_neuron:
            neurons.setdefault((name.layer, name.neuron), []).append((name, node))
        else:  # the error's nodes, output by output: E, then E0 e0^2 e0 t0, E1 ...
            output = -1 if name is None or name.index is None else name.index
            error.append((output, node.label, node))
    rows = []
    if error:
        rows.append(
            ("error", [(label, node) for _, label, node in sorted(error, key=lambda e: e[0])])
        )
    # output layer first, as the blame flows
    for layer, neuron in sorted(neurons, key=lambda place: (-place[0], place[1])):
        cells = sorted(neurons[layer, neuron], key=lambda cell: _column(cell[0]))
        title = cells[0][0].neuron_name
        rows.append((title, [(name.short, node) for name, node in cells]))
    if inputs:
        rows.append(
            ("inputs", [(node.label, node) for _, node in sorted(inputs, key=lambda cell: cell[0])])
        )
    return rows


def _column(name: Name) -> int:
    """Where a neuron's node goes in its row: a, z, then w0, w1, ..., then b."""
    fixed = {Role.ACTIVATION: -2, Role.WEIGHTED_INPUT: -1, Role.BIAS: 1 << 30}
    return name.index if name.role is Role.WEIGHT else fixed[name.role]


def _cell(name: str, node: Value, touched: Iterable[Value], changed: Value, digits: int) -> str:
    value = rounded(node.grad, digits) if node in touched else "·"
    return f"{name}={value}{'←' if node is changed else ''}"


def _row(title: str, cells: list[str], prefix: str = "") -> str:
    return textwrap.fill(
        "  ".join(cells),
        width=100,
        initial_indent=f"    {prefix}{title:<7} ",
        subsequent_indent=" " * (12 + len(prefix)),
    )
