"""The same backward pass, layer by layer: the four equations of backpropagation, with numbers.

Every textbook writes backprop for a layered network with vectors and matrices. Layer l
(0-based, as the model's names) has weights Wˡ (row j: the weights of neuron ``L{l}.n{j}``),
biases bˡ, weighted inputs zˡ = Wˡ aˡ⁻¹ + bˡ and activations aˡ = σ(zˡ); the network's
input x is a⁻¹. With δˡ = ∂E/∂zˡ (each neuron's blame at its weighted input):

    δᴸ = ∂E/∂aᴸ ⊙ σ′(zᴸ)                 the output layer L
    δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ′(zˡ)           every hidden layer, from the top down
    ∂E/∂bˡ = δˡ
    ∂E/∂Wˡ = δˡ (aˡ⁻¹)ᵀ                  entry (j, i): δˡ_j × aˡ⁻¹_i = ∂E/∂L{l}.n{j}.w{i}

(⊙ multiplies entry by entry; over several samples the last two are summed.) Nothing here
runs the network again: ``layer_view(loss)`` reads the recorded graph of an
``autograd_lite.nn`` model -- the ``L{l}.n{j}.z`` and ``.a`` nodes, their data and local
derivatives σ′(z), the weights inside each weighted sum -- takes ∂E/∂aᴸ from the engine, and
evaluates the equations on those numbers. It then compares every entry with the engine's own
gradient of the same weight, bias and z (``LayerView.largest_difference``). Standard library
only, like the engine; no ``.grad`` changes.

>>> from autograd_lite.nn import MLP, half_sum_squared_error
>>> model = MLP(2, [2, 1], activation="sigmoid", seed=0)
>>> view = layer_view(half_sum_squared_error(model([0.5, -1.0]), 1.0))
>>> [layer.shape for layer in view.layers]         # (neurons, inputs) of each Wˡ
[(2, 2), (1, 2)]
>>> view.largest_difference < 1e-15
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autograd_lite.checks import check_instance, wrong_kind
from autograd_lite.engine import Value, topological_order
from autograd_lite.gradients import grad
from autograd_lite.names import Role, neuron_name, parse, weighted_sum_parts
from autograd_lite.nn.model import MLP
from autograd_lite.notation import factor, rounded, superscript, to_ascii

__all__ = ["LayerGradients", "LayerView", "SamplePass", "describe_layers", "layer_view"]

# --- names -----------------------------------------------------------------------------------


def _neuron_part(label: str) -> tuple[int, int, str] | None:
    """(layer, neuron, 'z' or 'a') for 'L1.n0.z' and 'L1.n0.a', else None."""
    name = parse(label)
    if name is None or name.role not in (Role.WEIGHTED_INPUT, Role.ACTIVATION):
        return None
    return name.layer, name.neuron, name.part


def _weights(z: Value) -> tuple[Value, ...]:
    return weighted_sum_parts(z.inputs).weights


def _activations(z: Value) -> tuple[Value, ...]:
    return weighted_sum_parts(z.inputs).activations


# --- the numbers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplePass:
    """One layer on one sample: the vectors of the equations, entry j for neuron j.

    ``inputs`` is aˡ⁻¹ (x for layer 0); ``slope`` is σ′(zˡ), read from each activation
    node's local derivative (1 for a linear layer); ``upstream`` is what δ is made from:
    ∂E/∂aᴸ from the engine for the output layer, (Wˡ⁺¹)ᵀ δˡ⁺¹ for a hidden one;
    ``delta = upstream ⊙ slope``.
    """

    inputs: tuple[float, ...]
    z: tuple[float, ...]
    a: tuple[float, ...]
    slope: tuple[float, ...]
    upstream: tuple[float, ...]
    delta: tuple[float, ...]


@dataclass(frozen=True)
class LayerGradients:
    """Layer l of the view: its weights and, by the equations, its gradients.

    ``weights[j][i]`` is ``L{l}.n{j}.w{i}``; ``weight_grads`` has the same shape (∂E/∂Wˡ,
    summed over the samples) and ``bias_grads[j]`` is ∂E/∂bˡ_j. ``samples`` holds one
    ``SamplePass`` per sample the loss was computed on, in the order they were called.
    """

    index: int
    activation: str
    weights: tuple[tuple[float, ...], ...]
    biases: tuple[float, ...]
    samples: tuple[SamplePass, ...]
    weight_grads: tuple[tuple[float, ...], ...]
    bias_grads: tuple[float, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """(neurons, inputs): the shape of Wˡ."""
        return len(self.weights), len(self.weights[0])

    def neuron_names(self) -> list[str]:
        """``L{l}.n{j}`` for each row j.

        >>> from autograd_lite.nn import MLP
        >>> from autograd_lite import sum_values
        >>> layer_view(sum_values(MLP(3, [2])([1.0, 2.0, 3.0]))).layers[0].neuron_names()
        ['L0.n0', 'L0.n1']
        """
        return [neuron_name(self.index, j) for j in range(len(self.weights))]


@dataclass(frozen=True)
class LayerView:
    """The layers, input side first, and how well the equations match the engine.

    ``largest_difference`` is the largest absolute difference between an entry of δˡ,
    ∂E/∂bˡ or ∂E/∂Wˡ and the engine's gradient of the same z, bias or weight node;
    ``compared`` is how many entries were compared.
    """

    loss: float
    layers: tuple[LayerGradients, ...]
    largest_difference: float
    compared: int

    def __str__(self) -> str:
        return describe_layers(self)


# --- reading the graph -------------------------------------------------------------------


_Found = tuple[int, int, Value]  # (layer, neuron, its z node) of a neuron met in the graph


@dataclass
class _Neuron:
    """One neuron's nodes in one call: its z (a weighted_sum node) and its output node."""

    z: Value
    out: Value  # the a node, or z itself for a linear neuron


def _found_by_labels(order: Sequence[Value]) -> tuple[list[_Found], dict[Value, Value]]:
    """The neurons' z nodes and {z: its a node}, recognised by their names alone: the way
    for a graph without its model (``L{l}.n{j}.z`` and ``.a``, see ``names``)."""
    outputs: dict[Value, Value] = {}  # z -> its a node
    zs: list[_Found] = []
    for node in order:
        part = _neuron_part(node.label)
        if part is None:
            continue
        layer, neuron, kind = part
        if kind == "z":
            _check_weighted_sum(node, node.label)
            zs.append((layer, neuron, node))
        elif node.inputs and _neuron_part(node.inputs[0].label) == (layer, neuron, "z"):
            # σ(z) (leaky relu has its slope as a second input, a constant)
            outputs[node.inputs[0]] = node
    return zs, outputs


def _found_by_model(order: Sequence[Value], model: MLP) -> tuple[list[_Found], dict[Value, Value]]:
    """The same, read from the model itself: a neuron's z is the weighted sum that ends
    with its bias, its a the node applying its activation to that z. Labels play no part."""
    if model.op_by_op:
        raise ValueError(
            "layer_view: the model is built with op_by_op=True (its z is a chain of + nodes, "
            "not one weighted sum); the layer view reads models built without op_by_op"
        )
    place = {
        neuron.b: (l, j, neuron.activation)
        for l, layer in enumerate(model.layers)  # noqa: E741 (l for layer, as in the notes)
        for j, neuron in enumerate(layer.neurons)
    }
    outputs: dict[Value, Value] = {}
    zs: list[_Found] = []
    activation_of: dict[Value, str] = {}  # each z found -> its neuron's activation
    for node in order:
        if node.inputs and node.inputs[-1] in place and node.op == "weighted_sum":
            layer, neuron, activation = place[node.inputs[-1]]
            zs.append((layer, neuron, node))
            activation_of[node] = activation
        elif node.inputs and activation_of.get(node.inputs[0]) == node.op:
            outputs.setdefault(node.inputs[0], node)  # the first: the model's own call
    return zs, outputs


def _check_weighted_sum(z: Value, name: str) -> None:
    if z.op != "weighted_sum":
        raise ValueError(
            f"layer_view: {name} is a {z.op or 'leaf'!r} node, not a weighted "
            "sum; the layer view reads models built without op_by_op"
        )


def _neurons_by_sample(
    order: Sequence[Value], model: MLP | None = None
) -> list[list[list[_Neuron]]]:
    """[sample][layer][neuron]: the model's nodes, grouped by the call that made them.

    A layer-0 neuron belongs to the sample whose inputs it reads; a later one to the sample
    of the activations it reads. Samples come in the order the graph reaches them.
    """
    zs, outputs = _found_by_labels(order) if model is None else _found_by_model(order, model)
    if not zs:
        whose = "an autograd_lite.nn model (L{l}.n{j}.z)" if model is None else "the model given"
        raise ValueError(f"layer_view: no neuron of {whose} in this graph")
    sample_of: dict[Value, int] = {}  # every neuron output and layer-0 input -> its sample
    first_layer_samples: dict[tuple[Value, ...], int] = {}
    samples: list[dict[int, dict[int, _Neuron]]] = []
    for layer, neuron, z in sorted(zs, key=lambda item: item[0]):
        inputs = _activations(z)
        if layer == 0:
            sample = first_layer_samples.setdefault(tuple(inputs), len(first_layer_samples))
        else:
            owners = {sample_of.get(a) for a in inputs}
            if len(owners) != 1 or None in owners:
                raise ValueError(
                    f"layer_view: {z.label} does not read the activations of layer {layer - 1} "
                    "of one call of the model"
                )
            (sample,) = owners
        while len(samples) <= sample:
            samples.append({})
        found = samples[sample].setdefault(layer, {})
        if neuron in found:
            raise ValueError(f"layer_view: {z.label} appears twice in one call of the model")
        out = outputs.get(z, z)
        found[neuron] = _Neuron(z, out)
        sample_of[out] = sample
    return [_checked_layers(by_layer) for by_layer in samples]


def _checked_layers(by_layer: dict[int, dict[int, _Neuron]]) -> list[list[_Neuron]]:
    layers = []
    for layer in range(len(by_layer)):
        neurons = by_layer.get(layer, {})
        if sorted(neurons) != list(range(len(neurons))) or not neurons:
            raise ValueError(f"layer_view: layer {layer} of the model is incomplete in this graph")
        layers.append([neurons[j] for j in range(len(neurons))])
    if sorted(by_layer) != list(range(len(by_layer))):
        raise ValueError("layer_view: the graph skips a layer of the model")
    for below, above in zip(layers, layers[1:]):
        for neuron in above:
            inputs = _activations(neuron.z)
            if list(inputs) != [n.out for n in below]:
                raise ValueError(
                    f"layer_view: {neuron.z.label} does not read layer "
                    f"{len(layers) - 1}'s outputs in order"
                )
    return layers


def _check_parameters_only_in_network(order: Sequence[Value], zs: set[Value]) -> None:
    """The equations cover the paths through z; a weight used elsewhere (an L2 penalty) has
    more blame than they show."""
    parameters = {p for z in zs for part in (_weights(z), (z.inputs[-1],)) for p in part}
    for node in order:
        if node in zs:
            continue
        for input_ in node.inputs:
            if input_ in parameters:
                raise ValueError(
                    f"layer_view: {input_.label or 'a parameter'} also feeds {node.op!r} outside "
                    "the network (an L2 penalty?); the four equations cover only the path through "
                    "z: explain the loss without the penalty"
                )


def _activation_name(neuron: _Neuron) -> str:
    return "linear" if neuron.out is neuron.z else neuron.out.op


def layer_view(loss: Value, model: MLP | None = None) -> LayerView:
    """The backward pass of an ``autograd_lite.nn`` MLP's loss, as the four layer equations.

    ``loss`` is a Value computed from one or more calls of the model (weighted sums, not
    ``op_by_op``), and from the weights only through those calls (no L2 penalty). It need
    not have been through ``backward()``: ∂E/∂aᴸ and the gradients the result is compared
    with come from ``autograd_lite.grad``, which leaves every ``.grad`` as it was.

    Give the ``model`` when you have it: its layers, neurons, biases and activations say
    which nodes are whose, whatever their labels (another model in the same loss, a node
    renamed). Without it the structure is read from the nodes' names (``L{l}.n{j}.z``, ``.a``).

    >>> from autograd_lite.nn import MLP, mean_squared_error
    >>> model = MLP(3, [4, 2], activation="tanh", seed=1)
    >>> loss = mean_squared_error([model([1.0, 0.0, -1.0]), model([0.5, 0.5, 0.5])],
    ...                           [[1.0, 0.0], [0.0, 1.0]])
    >>> view = layer_view(loss)
    >>> len(view.layers[1].samples), view.compared, view.largest_difference < 1e-15
    (2, 38, True)
    """
    if not isinstance(loss, Value):
        raise wrong_kind("layer_view", "loss", "a Value", loss)
    if model is not None:
        check_instance("layer_view", "model", model, MLP, "an MLP (or None)")
    order = topological_order(loss)
    samples = _neurons_by_sample(order, model)
    depth = len(samples[0])
    widths = [len(layer) for layer in samples[0]]
    for sample in samples:
        if [len(layer) for layer in sample] != widths:
            raise ValueError("layer_view: the calls in this graph come from different models")
    all_z = {neuron.z for sample in samples for layer in sample for neuron in layer}
    _check_parameters_only_in_network(order, all_z)
    first = samples[0]
    weights = [[_weights(n.z) for n in layer] for layer in first]
    biases = [[n.z.inputs[-1] for n in layer] for layer in first]
    for sample in samples[1:]:  # every call must use the same weight leaves
        for l, layer in enumerate(sample):  # noqa: E741 (l for layer, as in the notes)
            for j, neuron in enumerate(layer):
                if _weights(neuron.z) != weights[l][j]:
                    raise ValueError(
                        f"layer_view: {neuron.z.label} uses other weights in another call"
                    )

    # the engine's numbers: ∂E/∂aᴸ, and every gradient the equations will be compared with
    outputs = [n.out for sample in samples for n in sample[-1]]
    zs = [n.z for sample in samples for layer in sample for n in layer]
    flat_weights = [w for layer in weights for row in layer for w in row]
    flat_biases = [b for layer in biases for b in layer]
    engine = dict(
        zip(
            [*outputs, *zs, *flat_weights, *flat_biases],
            grad(loss, [*outputs, *zs, *flat_weights, *flat_biases]),
        )
    )

    passes: list[list[SamplePass]] = [[] for _ in range(depth)]
    for sample in samples:
        upstream = [engine[n.out] for n in sample[-1]]  # ∂E/∂aᴸ
        for l in reversed(range(depth)):  # noqa: E741
            layer = sample[l]
            slope = [1.0 if n.out is n.z else n.out.local_grads[0] for n in layer]
            delta = [u * s for u, s in zip(upstream, slope)]
            inputs = [a.data for a in _activations(layer[0].z)]
            passes[l].append(
                SamplePass(
                    tuple(inputs),
                    tuple(n.z.data for n in layer),
                    tuple(n.out.data for n in layer),
                    tuple(slope),
                    tuple(upstream),
                    tuple(delta),
                )
            )
            if l:  # (Wˡ)ᵀ δˡ: the blame of each input of this layer
                rows = [[w.data for w in row] for row in weights[l]]
                upstream = [
                    sum(rows[j][i] * delta[j] for j in range(len(rows)))
                    for i in range(len(rows[0]))
                ]

    layers = []
    for l in range(depth):  # noqa: E741
        fan_in = len(weights[l][0])
        weight_grads = tuple(
            tuple(sum(p.delta[j] * p.inputs[i] for p in passes[l]) for i in range(fan_in))
            for j in range(widths[l])
        )
        bias_grads = tuple(sum(p.delta[j] for p in passes[l]) for j in range(widths[l]))
        layers.append(
            LayerGradients(
                l,
                _activation_name(first[l][0]) if model is None else model.layers[l].activation,
                tuple(tuple(w.data for w in row) for row in weights[l]),
                tuple(b.data for b in biases[l]),
                tuple(passes[l]),
                weight_grads,
                bias_grads,
            )
        )

    differences = []
    for s, sample in enumerate(samples):
        for l, layer in enumerate(sample):  # noqa: E741
            differences += [
                abs(engine[n.z] - layers[l].samples[s].delta[j]) for j, n in enumerate(layer)
            ]
    for l, layer in enumerate(layers):  # noqa: E741
        for j in range(widths[l]):
            differences.append(abs(engine[biases[l][j]] - layer.bias_grads[j]))
            differences += [
                abs(engine[w] - g) for w, g in zip(weights[l][j], layer.weight_grads[j])
            ]
    return LayerView(loss.data, tuple(layers), max(differences), len(differences))


# --- writing it -----------------------------------------------------------------------------


def _vector(values: Sequence[float], digits: int) -> str:
    return "[" + ", ".join(rounded(v, digits) for v in values) + "]"


def _matrix(rows: Sequence[Sequence[float]], names: Sequence[str], digits: int) -> list[str]:
    cells = [[rounded(v, digits) for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    name_width = max(len(n) for n in names)
    return [
        f"{name:<{name_width}} [ " + "  ".join(f"{c:>{width}}" for c in row) + " ]"
        for name, row in zip(names, cells)
    ]


def describe_layers(
    view: LayerView,
    *,
    ascii: bool = False,
    digits: int = 4,
    max_width: int = 8,
    max_samples: int = 2,
) -> str:
    """The equations layer by layer, output layer first, with their numbers.

    Vectors and matrices are written out entry by entry when a layer has at most
    ``max_width`` neurons and inputs (else their size), for at most ``max_samples`` samples.
    Each row of a matrix is named by its neuron: row j of ∂E/∂Wˡ is ``L{l}.n{j}``'s ∂E/∂w.

    >>> from autograd_lite.nn import MLP, half_sum_squared_error
    >>> model = MLP(1, [1, 1], activation="tanh", seed=0)
    >>> text = describe_layers(layer_view(half_sum_squared_error(model([1.0]), 0.5)))
    >>> print(text.splitlines()[3])
    Layer 1 (output layer, linear): 1 neuron, 1 input
    """
    lines = [
        "The same backward pass, layer by layer (δˡ = ∂E/∂zˡ; row j of Wˡ is neuron L{l}.n{j};",
        "the input x is a⁻¹; ⊙ multiplies entry by entry):",
    ]
    samples = len(view.layers[0].samples)
    if samples > 1:
        lines.append(
            f"  {samples} samples: δ is per sample, ∂E/∂bˡ and ∂E/∂Wˡ are sums over the samples."
        )
    last = len(view.layers) - 1
    for layer in reversed(view.layers):
        lines += [""] + _layer_lines(view, layer, last, digits, max_width, max_samples)
    lines += ["", _agreement(view)]
    text = "\n".join(lines)
    return to_ascii(text) if ascii else text


def _agreement(view: LayerView) -> str:
    """The closing line: how the entries compare with the engine's gradients. It says
    "equals" only when that is true; a sum added in another order may differ in the last
    bits (within 1e-12 of the largest entry), anything more is a disagreement."""
    checked = f"checked {view.compared} entries of δ, ∂E/∂b and ∂E/∂W"
    difference = view.largest_difference
    if difference == 0.0:
        return f"Every entry equals the engine's gradient of the same node ({checked})."
    entries = [abs(g) for layer in view.layers for row in layer.weight_grads for g in row]
    entries += [abs(g) for layer in view.layers for g in layer.bias_grads]
    if difference <= 1e-12 * max(entries, default=0.0):
        return (
            f"Every entry equals the engine's gradient of the same node up to rounding ({checked};"
            f" largest difference {difference:.2g}: the same terms added in another order)."
        )
    return (
        f"The entries DIFFER from the engine's gradients ({checked}; largest difference"
        f" {difference:.2g}): the graph is not the plain network these equations describe."
    )


def _layer_lines(
    view: LayerView, layer: LayerGradients, last: int, digits: int, max_width: int, max_samples: int
) -> list[str]:
    l, s = layer.index, superscript(layer.index)  # noqa: E741
    below = "x" if l == 0 else f"a{superscript(l - 1)}"
    neurons, fan_in = layer.shape
    where = "output layer" if l == last else "hidden layer"
    plural = "s" if neurons > 1 else ""
    lines = [
        f"Layer {l} ({where}, {layer.activation}): {neurons} neuron{plural}, "
        f"{fan_in} input{'s' if fan_in > 1 else ''}"
    ]
    names = layer.neuron_names()
    small = neurons <= max_width and fan_in <= max_width
    slope = "σ′" if layer.activation != "linear" else "1 (linear)"
    if l == last:
        lines.append(f"  δ{s} = ∂E/∂a{s} ⊙ σ′(z{s})     (∂E/∂a{s} from the error)")
        upstream_name = f"∂E/∂a{s}"
    else:
        lines.append(f"  δ{s} = (W{superscript(l + 1)})ᵀ δ{superscript(l + 1)} ⊙ σ′(z{s})")
        upstream_name = f"(W{superscript(l + 1)})ᵀδ{superscript(l + 1)}"
        if small and len(view.layers[l + 1].weights) <= max_width:
            above = view.layers[l + 1]
            lines.append(f"    W{superscript(l + 1)} =")
            lines += [
                "      " + row for row in _matrix(above.weights, above.neuron_names(), digits)
            ]
    for k, sample in enumerate(layer.samples[:max_samples]):
        tag = f" (sample {k})" if len(layer.samples) > 1 else ""
        if not small:
            lines.append(
                f"    δ{s}{tag}: {neurons} entries, largest |δ| "
                f"{rounded(max(abs(d) for d in sample.delta), digits)}"
            )
            continue
        lines.append(
            f"    {'neuron':<8} {upstream_name:>12}   {slope + '(z)':>10}   δ = ∂E/∂z{tag}"
        )
        for name, u, sl, d in zip(names, sample.upstream, sample.slope, sample.delta):
            u, sl, d = (rounded(x, digits) for x in (u, sl, d))
            lines.append(f"    {name:<8} {u:>12} × {sl:>10} = {d}")
        if k == 0 and l != last and len(view.layers[l + 1].weights) <= 4:
            lines += _sum_lines(view.layers[l + 1], names, sample.upstream, digits)
    if len(layer.samples) > max_samples:
        lines.append(f"    ... and {len(layer.samples) - max_samples} more samples")
    if not small:
        lines += [
            f"  ∂E/∂b{s} = δ{s}: {neurons} entries;  ∂E/∂W{s} = δ{s} ({below})ᵀ: "
            f"{neurons} × {fan_in} entries (row j: ∂E/∂w of L{l}.n{{j}})"
        ]
        return lines
    lines.append(
        f"  ∂E/∂b{s} = δ{s}" + (" summed over the samples" if len(layer.samples) > 1 else "")
    )
    lines.append(
        "    "
        + ", ".join(f"∂E/∂{n}.b = {rounded(g, digits)}" for n, g in zip(names, layer.bias_grads))
    )
    several = len(layer.samples) > 1
    sources = ", ".join(
        f"{below}{f' (sample {k})' if several else ''} = {_vector(p.inputs, digits)}"
        for k, p in enumerate(layer.samples[:max_samples])
    )
    summed = " summed over the samples" if len(layer.samples) > 1 else ""
    lines.append(f"  ∂E/∂W{s} = δ{s} ({below})ᵀ{summed}, with {sources}")
    columns = "  ".join(f"w{i}" for i in range(fan_in))
    lines.append(f"    row j is ∂E/∂w of neuron L{l}.n{{j}}, columns {columns}:")
    lines += ["      " + row for row in _matrix(layer.weight_grads, names, digits)]
    return lines


def _sum_lines(
    above: LayerGradients, names: Sequence[str], upstream: Sequence[float], digits: int
) -> list[str]:
    """Entry j of (Wˡ⁺¹)ᵀ δˡ⁺¹ written as its sum: one term per path through an outgoing
    weight, as the neuron view sums them."""
    delta, up = above.samples[0].delta, superscript(above.index)
    lines = [f"    where (W{up})ᵀδ{up} sums one term per outgoing weight:"]
    for i, (name, total) in enumerate(zip(names, upstream)):
        terms = " + ".join(
            f"{factor(row[i], digits)} × {factor(d, digits)}"
            for row, d in zip(above.weights, delta)
        )
        lines.append(f"      {name}: {terms} = {rounded(total, digits)}")
    return lines
