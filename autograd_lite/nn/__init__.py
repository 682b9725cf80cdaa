"""Neural networks built from Values: standard library only, so they can be read and ported.

>>> from autograd_lite.nn import MLP
>>> model = MLP(2, [8, 1], seed=0)
>>> type(model([0.1, 0.2])).__name__
'Value'
"""

from autograd_lite.nn.model import ACTIVATIONS, MLP, Layer, Module, Neuron

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]
