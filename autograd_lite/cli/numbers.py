"""Numbers as the command line prints them: never ``-0``.

A weight or a coordinate that rounds to zero from below would print as ``-0`` (or
``-0.0000``), which reads like a sign that matters. It is printed as ``0``.

>>> shown(-0.0), shown(-1e-9, ".3g"), shown(-1e-9, ".4f"), shown(-0.5, ".2f"), shown(2.5, "g")
('0', '-1e-09', '0.0000', '-0.50', '2.5')
"""

from __future__ import annotations


def shown(x: float, spec: str = "g") -> str:
    """``format(x, spec)``, without the minus sign of a number that shows as zero."""
    text = format(x, spec)
    if text.startswith("-") and text.strip("-0.e+%") == "":  # every digit is a zero
        return text[1:]
    return text
