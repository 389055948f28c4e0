"""One compatibility spot: ``import torchvision`` with the CPU build of torch.

The torchvision wheel on PyPI links CUDA libraries; next to a CPU-only torch its
compiled extension does not load, and the import then dies while registering fake
kernels for ``torchvision::nms`` / ``torchvision::qnms`` (operators the extension would
have defined). Declaring those two schemas lets the pure-Python parts (models,
transforms) import; ``torchvision.ops`` kernels stay unavailable, which we never use.
Where torchvision imports normally this does nothing.
"""
from __future__ import annotations

import sys

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library = None  # keeps the schema registration alive for the process
patched = False  # True when the schemas had to be declared


def import_torchvision():
    """Return the torchvision module, declaring the missing schemas only if needed."""
    global _library, patched
    try:
        import torchvision
        return torchvision
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
    import torch

    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    _library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS:
        _library.define(schema)
    patched = True
    import torchvision
    return torchvision
