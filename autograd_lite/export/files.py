"""Whole exported files: the loop form of an MLP and the straight-line form of a graph.

Both files have the same parts, in this order: the helper functions of the ops that branch,
the numbers (weights, the sample, the learning rate), the variables the passes fill, then
``forward()``, ``backward()``, ``sgd_step()`` and a ``main()`` that does one step and prints
the error, every gradient and the error after the step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from autograd_lite.engine import Value, topological_order
from autograd_lite.export.languages import Writer, writer
from autograd_lite.export.ops import OpWriter
from autograd_lite.export.straight import (
    ROOT,
    StraightLine,
    add_scaled,
    formula,
    gradient_name,
    literal,
    symbol,
)
from autograd_lite.nn import ACTIVATIONS, MLP
from autograd_lite.program import Program, trace

# A straight-line file has a line per node and per edge: past this many nodes it stops being
# something to read (and C compilers slow down); an MLP has the loop form for that.
MAX_STRAIGHT_LINE_NODES = 400

NOTATION = (
    "Notation of the notes: z = w·a_in + b is a neuron's weighted input, a = σ(z) its "
    "activation, E the error; dE_dX holds ∂E/∂X, the blame of X. Forward computes every "
    "value from the inputs to E; backward applies the chain rule from E back to the "
    "weights: ∂E/∂(input) += ∂(node)/∂(input) × ∂E/∂(node); one step of gradient descent "
    "then moves each weight: w_new = w_old − lr × ∂E/∂w."
)


def _main(w: Writer, print_gradients: Callable[[], None]) -> None:
    w.define_shortest()  # what main prints numbers with: the same text in every language
    with w.function("main"):
        w.call("forward")
        w.print_number([ROOT], ROOT)
        w.call("backward")
        print_gradients()
        w.call("sgd_step")
        w.call("forward")
        w.print_number([f"{ROOT} after one step"], ROOT)
        if w.language == "c":
            w.line("return 0;")
    w.entry_point()


def _assemble(language: str, title: str, description: str, ops: OpWriter, body: Writer) -> str:
    w = writer(language)
    w.header(title, description)
    ops.define_helpers(w)
    w.blank()
    w.lines.extend(body.lines)
    return w.text()


# --- straight-line form --------------------------------------------------------------------


def straight_line_file(program: Program, language: str, lr: float, title: str) -> str:
    """The straight-line file of ``program``: every node a line, every edge a line."""
    if len(program) > MAX_STRAIGHT_LINE_NODES:
        raise ValueError(
            f"export: this graph has {len(program)} nodes; straight-line code (a line per node "
            f"and per edge) is written for up to {MAX_STRAIGHT_LINE_NODES}. For a network, "
            "export the MLP in loop form instead (export_model, or `autograd-lite export "
            "MODEL.json`), which stays short at any size"
        )
    if not program.parameters:
        raise ValueError("export: the program has no parameters, so nothing to learn")
    ops = OpWriter(language)
    lines = StraightLine(program, ops)
    body = writer(language)
    body.comment("--- the numbers: parameters (what learning changes), the sample, constants")
    for name, value, _, what in lines.leaves():
        body.scalar(name, value, what)
    body.scalar("lr", lr, "learning rate")
    body.blank()
    body.declare_many(
        lines.computed(),
        "--- what the passes compute: each node's value (forward), and its gradient dE_d... "
        "(backward)",
    )
    with body.function("forward", lines.forward_scalars()):
        lines.write_forward(body)
    with body.function("backward", lines.backward_scalars()):
        lines.write_backward(body)
    parameters = lines.parameter_names()
    with body.function("sgd_step", [name for name, _ in parameters]):
        for name, grad in parameters:
            step = f"{name}_new = {name}_old − lr × ∂E/∂{name}"
            body.assign(name, f"{name} - lr * {grad}", step)

    def print_gradients() -> None:
        for name, grad in parameters:
            body.print_number([f"d{ROOT}/d{name}"], grad)

    _main(body, print_gradients)
    description = (
        f"Straight-line form: one line per node of the graph ({len(program)} nodes), one line "
        "per chain-rule step. Written by `autograd-lite export`; the values are those of the "
        f"traced graph, so running it prints the engine's numbers.\n\n{NOTATION}"
    )
    return _assemble(language, title, description, ops, body)


# --- loop form -----------------------------------------------------------------------------


def _activation_op(name: str) -> tuple[str, list[float]] | None:
    """The engine op of an activation and its constant extra inputs (leaky_relu's slope),
    read from the engine itself; None for linear."""
    apply = ACTIVATIONS[name]
    if apply is None:
        return None
    probe = apply(Value(1.0))
    return probe.op, [v.data for v in probe.inputs[1:]]


def _loss_program(
    model: MLP, inputs: Sequence[float], targets: object, loss: Callable[..., Value]
) -> tuple[Program, list[Value]]:
    """The loss of the model's outputs, traced on stand-ins for the outputs: the part of
    the file after the network."""
    outputs = model(list(inputs))
    outputs = [outputs] if isinstance(outputs, Value) else outputs
    stand_ins = [Value(o.data, o.label) for o in outputs]
    error = loss(stand_ins[0] if len(stand_ins) == 1 else stand_ins, targets)
    if not isinstance(error, Value):
        raise TypeError(f"export: the loss must return a Value, got {type(error).__name__}")
    parameters = set(model.parameters())
    for node in topological_order(error):
        if node in parameters:
            raise ValueError(
                f"export: the loss reads the parameter {node.label} itself (an L2 penalty?); "
                "the loop form writes losses of the model's outputs only"
            )
    return trace(error, params=[], inputs=stand_ins), outputs


def _neurons_backward(
    w: Writer,
    l: int,  # noqa: E741
    n: int,
    last: int,
    program: Program,
) -> AbstractContextManager[None]:
    """The loop over the ``n`` neurons of layer ``l`` in the backward pass, in the order the
    engine goes through them: each adds its share of ∂E/∂a_in, and a sum of rounded numbers
    depends on its order (not for two shares: 0 + c0 + c1 is 0 + c1 + c0).

    The engine goes back through the nodes in the reverse of the order it placed them
    (depth first from E, inputs in order). A hidden layer's neurons are placed 0, 1, ...
    (the next layer's first neuron reads its a_in in that order), so they come back last
    first; the last layer's are placed as the error first reads each output (``program``,
    the traced error, places its stand-ins for the outputs in that order)."""
    if l == 0 or n <= 2:  # nothing summed over its neurons, or the order cannot matter
        return w.loop("j", n)
    placed = list(range(n))
    if l == last:
        placed.sort(key=lambda k: program.inputs[k])
    w.comment("neurons in the order the engine adds their shares, so that every digit agrees")
    if placed == list(range(n)):
        return w.loop_back("j", n)
    if placed == list(range(n))[::-1]:
        return w.loop("j", n)
    return w.loop_over("j", placed[::-1])


def loop_file(
    model: MLP,
    inputs: Sequence[float],
    targets: object,
    loss: Callable[..., Value],
    language: str,
    lr: float,
) -> str:
    """The loop form of ``model``: one loop per layer over its neurons and their inputs."""
    program, outputs = _loss_program(model, inputs, targets, loss)
    ops = OpWriter(language)
    layers = model.layers
    acts = [_activation_op(layer.activation) for layer in layers]
    sizes = [model.nin, *(len(layer.neurons) for layer in layers)]
    outs = ["x"] + [f"L{l}_{'z' if act is None else 'a'}" for l, act in enumerate(acts)]  # noqa: E741
    last = len(layers) - 1
    stand_ins = {i: f"{outs[-1]}[{k}]" for k, i in enumerate(program.inputs)}
    stand_in_grads = {i: f"{gradient_name(outs[-1])}[{k}]" for k, i in enumerate(program.inputs)}
    arrays = [f"L{l}_{part}" for l in range(len(layers)) for part in "wbza"]  # noqa: E741
    reserved = ["x", "z", "i", "j", *arrays, *map(gradient_name, arrays)]
    loss_lines = StraightLine(
        program, ops, stand_ins, stand_in_grads, wanted=program.inputs, reserved=reserved
    )

    body = writer(language)
    body.comment("--- the network: weights and biases, what learning changes")
    for l, layer in enumerate(layers):  # noqa: E741 (l for layer, as in the notes)
        rows = [[w.data for w in neuron.w] for neuron in layer.neurons]
        body.matrix(
            f"L{l}_w", rows,
            f"L{l}_w[j][i]: weight w of neuron j of layer {l} for its input i (L{l}.nj.wi)",
        )  # fmt: skip
        body.array(
            f"L{l}_b", [n.b.data for n in layer.neurons], f"bias b of each neuron (L{l}.nj.b)"
        )
    body.blank()
    body.comment("--- the sample: its inputs x, and the constants of the error (targets t)")
    body.array("x", list(map(float, inputs)), "x[i]: input i of the network (x0, x1, ...)")
    for name, value, kind, _ in loss_lines.leaves():
        body.scalar(
            name,
            value,
            f"target {name} of the error" if kind == "target" else "a constant of the error",
        )
    body.scalar("lr", lr, "learning rate")
    body.blank()
    body.comment("--- what the passes compute: z, a and E, then their gradients ∂E/∂·")
    for l, act in enumerate(acts):  # noqa: E741
        body.zeros(f"L{l}_z", [sizes[l + 1]], "weighted input z of each neuron")
        if act is not None:
            notation = formula(act[0], ["z", *(symbol(v) for v in act[1])])
            body.zeros(f"L{l}_a", [sizes[l + 1]], f"activation a = {notation}")
    computed = loss_lines.computed()
    body.declare_many(
        [name for name in computed if not name.startswith(gradient_name(""))],
        f"the nodes of the error, from the outputs {outs[-1]} to {ROOT} (set by forward)",
    )
    for l, act in enumerate(acts):  # noqa: E741
        n, m = sizes[l + 1], sizes[l]
        body.zeros(gradient_name(f"L{l}_w"), [n, m], "∂E/∂w")
        body.zeros(gradient_name(f"L{l}_b"), [n], "∂E/∂b")
        body.zeros(gradient_name(f"L{l}_z"), [n], "∂E/∂z")
        if act is not None:
            body.zeros(gradient_name(f"L{l}_a"), [n], "∂E/∂a")
    body.declare_many(
        [name for name in computed if name.startswith(gradient_name(""))],
        "and their gradients (set by backward)",
    )

    with body.function("forward", loss_lines.forward_scalars()):
        for l, act in enumerate(acts):  # noqa: E741
            n, m = sizes[l + 1], sizes[l]
            what = "linear" if act is None else act[0]
            body.comment(f"layer {l}: {n} {what} neurons, each weighing the {m} values {outs[l]}")
            with body.loop("j", n):
                start, term = ops.weighted_sum_loop(f"L{l}_b[j]", f"L{l}_w[j][i]", f"{outs[l]}[i]")
                body.local("z", start, "z = b + Σ w·a_in: start from the bias b")
                with body.loop("i", m):
                    body.add_to("z", term, "add w·a_in for input i")
                body.assign(f"L{l}_z[j]", "z")
                if act is not None:
                    op, extra = act
                    forward = ops.forward(op, [f"L{l}_z[j]", *map(literal, extra)])
                    notation = formula(op, ["z", *(symbol(v) for v in extra)])
                    body.assign(f"L{l}_a[j]", forward, f"a = {notation}")
        body.comment(f"the error {ROOT}, from the outputs {outs[-1]}")
        loss_lines.write_forward(body)

    with body.function("backward", loss_lines.backward_scalars()):
        body.comment(f"the error: ∂E/∂ of each node of E, back to ∂E/∂(outputs {outs[-1]})")
        loss_lines.write_backward(body)
        for l in range(last, -1, -1):  # noqa: E741
            n, m, act = sizes[l + 1], sizes[l], acts[l]
            body.blank()
            given = "∂E/∂z" if act is None else "∂E/∂a"
            body.comment(f"layer {l}: from {given} of its neurons to its weights and its inputs")
            if l > 0:
                with body.loop("i", m):
                    body.assign(f"{gradient_name(outs[l])}[i]", "0.0", "sums over neurons")
            with _neurons_backward(body, l, n, last, program):
                dz = f"{gradient_name(f'L{l}_z')}[j]"
                if act is not None:
                    op, extra = act
                    local = ops.derivative(
                        op, 0, [f"L{l}_z[j]", *map(literal, extra)], f"L{l}_a[j]"
                    )
                    body.assign(dz, f"{local} * {gradient_name(f'L{l}_a')}[j]",
                                "∂E/∂z = ∂a/∂z × ∂E/∂a")  # fmt: skip
                inputs = [f"L{l}_w[j][i]", f"{outs[l]}[i]", f"L{l}_b[j]"]
                local_w, local_a, local_b = (
                    ops.derivative("weighted_sum", k, inputs, f"L{l}_z[j]") for k in range(3)
                )
                db = f"{gradient_name(f'L{l}_b')}[j]"
                add_scaled(body, db, local_b, dz, "∂E/∂b = ∂z/∂b × ∂E/∂z", first=True)
                with body.loop("i", m):
                    dw = f"{gradient_name(f'L{l}_w')}[j][i]"
                    add_scaled(body, dw, local_w, dz, "∂E/∂w = ∂z/∂w × ∂E/∂z", first=True)
                    if l > 0:
                        da = f"{gradient_name(outs[l])}[i]"
                        add_scaled(body, da, local_a, dz, "∂E/∂a_in += ∂z/∂a_in × ∂E/∂z")

    with body.function("sgd_step"):
        body.comment("gradient descent: every weight and bias takes a step against its gradient")
        for l in range(len(layers)):  # noqa: E741
            with body.loop("j", sizes[l + 1]):
                with body.loop("i", sizes[l]):
                    w = f"L{l}_w[j][i]"
                    dw = f"{gradient_name(f'L{l}_w')}[j][i]"
                    body.assign(w, f"{w} - lr * {dw}", "w_new = w_old − lr × ∂E/∂w")
                b = f"L{l}_b[j]"
                db = f"{gradient_name(f'L{l}_b')}[j]"
                body.assign(b, f"{b} - lr * {db}", "b_new = b_old − lr × ∂E/∂b")

    def print_gradients() -> None:
        for l in range(len(layers)):  # noqa: E741
            with body.loop("j", sizes[l + 1]):
                with body.loop("i", sizes[l]):
                    body.print_number(
                        [f"d{ROOT}/dL{l}_n", "j", "_w", "i"], f"{gradient_name(f'L{l}_w')}[j][i]"
                    )
                body.print_number([f"d{ROOT}/dL{l}_n", "j", "_b"], f"{gradient_name(f'L{l}_b')}[j]")

    _main(body, print_gradients)
    title = (
        f"One step of gradient descent for MLP({model.nin}, {model.nouts}), written out by "
        "autograd-lite."
    )
    shape = ", ".join(f"{len(layer.neurons)} {layer.activation}" for layer in layers)
    description = (
        f"Loop form: {model.nin} inputs, then layers of {shape} neurons; one loop per layer "
        "over its neurons and their inputs, no matrices, so the file stays this short at any "
        f"size. The error is written out line by line for this sample. Written by "
        f"`autograd-lite export`; it prints the engine's numbers.\n\n{NOTATION}"
    )
    return _assemble(language, title, description, ops, body)
