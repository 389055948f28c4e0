"""Monolayer 2H-WSe2 as both the specimen of notebook 16 and its analysis see it: the W-W
spacing, the classes of chalcogen-column content, and the hexagonal W and chalcogen sites."""
from __future__ import annotations

import numpy as np

__all__ = ["A_WSE2", "CONTENTS", "DEFECTS", "hex_sites"]

A_WSE2 = 3.30          # Å, the document's W-W spacing (330 pm)
CONTENTS = ("2Se", "2Te", "SeTe", "SV", "DV")    # chalcogen-column contents; 2Se: no defect
DEFECTS = CONTENTS[1:]


def hex_sites(size_A: tuple, a: float, origin) -> tuple[np.ndarray, np.ndarray]:
    """W and chalcogen sites (Å) of a hexagonal layer of spacing ``a`` covering ``size_A``
    (height, width) with a margin, the lattice shifted by ``origin``.

    Each chalcogen site lies at (a1 + a2) / 3 from a W site (a1 = (a, 0), a2 = (a/2, a sqrt(3)/2));
    sites are kept within a 2 Å margin around the field.

    Args:
        size_A: (height, width) of the field to cover (Å).
        a: lattice constant, the W-W spacing (Å).
        origin: (x, y) shift of the lattice (Å).

    Returns:
        (W sites [n_w, 2], chalcogen sites [n_x, 2]), each row (x, y) in Å.
    """
    a1, a2 = np.array([a, 0.0]), np.array([a / 2, a * np.sqrt(3) / 2])
    H, W = size_A
    nj = int(H / a2[1]) + 3
    ni = int(W / a) + nj + 3
    i, j = np.meshgrid(np.arange(-nj - 2, ni), np.arange(-2, nj), indexing="ij")
    w = np.asarray(origin) + i.ravel()[:, None] * a1 + j.ravel()[:, None] * a2
    x = w + (a1 + a2) / 3

    def inside(p):
        return (p[:, 0] > -2) & (p[:, 0] < W + 2) & (p[:, 1] > -2) & (p[:, 1] < H + 2)

    return w[inside(w)], x[inside(x)]
