"""Doctests of optional extras run only where the extra is installed (CI installs them all)."""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("torch") is None:
    collect_ignore.append("autograd_lite/torch_bridge.py")
