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

__all__ = ["patched", "import_torchvision"]

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library = None  # keeps the schema registration alive for the process
patched = False  # True when the schemas had to be declared


def import_torchvision():
    """Import torchvision, declaring the missing ``nms`` / ``qnms`` schemas only if needed.

    A first plain import is tried; only when it dies with a ``torchvision::`` error are the
    half-imported modules dropped, the two schemas declared and the import repeated (setting
    ``patched``).

    Returns:
        The ``torchvision`` module.

    Raises:
        RuntimeError: the import failed for another reason than the missing schemas.
    """
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
