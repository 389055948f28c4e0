"""Shared fixtures: hand-built cells whose answers are known, and scratch data dirs."""
from __future__ import annotations

import numpy as np
import pytest

SQ3 = np.sqrt(3.0)


def hexagonal(a, frac, elements, c=20.0, gamma=120.0):
    g = np.radians(gamma)
    lat = [[a, 0, 0], [a * np.cos(g), a * np.sin(g), 0], [0, 0, c]]
    return {"lattice_mat": lat, "coords": frac, "elements": elements, "cartesian": False}


def train_tiny(task: str = "regress", n: int = 8, px: int = 16, seed: int = 0, field_A: float | None = None):
    """A real trained model of this repository: a 1-epoch small CNN on random images (a, b,
    gamma regressor, or a 5-class classifier), in whatever ``paths.MODELS`` points at."""
    from lattice_utils.learn import training

    rng = np.random.default_rng(seed)
    inputs = training.Inputs(rng.integers(0, 255, (n, px, px), dtype=np.uint8), f"rand-{n}-{px}-{seed}", px,
                             field_A=field_A)
    rows = np.arange(n)
    if task == "regress":
        y, targets = rng.normal(size=(n, 3)) + [3, 3, 100], ("a", "b", "gamma")
    else:
        y, targets = rng.integers(0, 5, n), ("label",)
    cfg = training.TrainConfig(task, "small_cnn", targets, training.data_key(inputs, rows, y), input_px=px,
                               epochs=1, precision="fp32", channels_last=False)
    return training.train(cfg, inputs, rows, y, log=lambda *a: None)


def oriented_classifier():
    """A five-class 'classifier' whose scores depend on where the bright pixels lie: not rotation
    invariant, so its symmetric copies are classed differently."""
    import torch

    class Oriented(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor(5.0))

        def forward(self, x):
            g = x[:, 0]
            h, w = g.shape[-2:]
            return torch.stack([g[:, : h // 2].mean((1, 2)), g[:, h // 2:].mean((1, 2)),
                                g[:, :, : w // 2].mean((1, 2)), g[:, :, w // 2:].mean((1, 2)),
                                g[:, : h // 2, : w // 2].mean((1, 2))], dim=1) * self.scale

    return Oriented()


def cell(a, b, gamma, frac, elements, c=20.0):
    g = np.radians(gamma)
    lat = [[a, 0, 0], [b * np.cos(g), b * np.sin(g), 0], [0, 0, c]]
    return {"lattice_mat": lat, "coords": frac, "elements": elements, "cartesian": False}


@pytest.fixture
def graphene():
    return hexagonal(2.46, [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]], ["C", "C"])


@pytest.fixture
def mos2():
    return hexagonal(3.16, [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5 + 1.56 / 20], [1 / 3, 2 / 3, 0.5 - 1.56 / 20]],
                     ["Mo", "S", "S"])


@pytest.fixture
def hbn():
    return hexagonal(2.50, [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]], ["B", "N"])


@pytest.fixture
def phosphorene():
    # black phosphorus monolayer, a = 3.30 A (zigzag), b = 4.62 A (armchair)
    frac = [[0, 0.0806, 0.5 - 1.06 / 20], [0.5, 0.4194, 0.5 - 1.06 / 20],
            [0, 0.5806, 0.5 + 1.06 / 20], [0.5, 0.9194, 0.5 + 1.06 / 20]]
    return cell(3.30, 4.62, 90.0, frac, ["P"] * 4)


@pytest.fixture
def fese():
    # square FeSe-like layer: Fe at (0,0),(1/2,1/2), Se above/below at (1/2,0),(0,1/2)
    frac = [[0, 0, 0.5], [0.5, 0.5, 0.5], [0.5, 0, 0.5 + 1.45 / 20], [0, 0.5, 0.5 - 1.45 / 20]]
    return cell(3.77, 3.77, 90.0, frac, ["Fe", "Fe", "Se", "Se"])


def point_paths_at(root, monkeypatch):
    """Point every data and output directory of ``paths`` at ``root`` (data in ``root/data``)."""
    from lattice_utils.core import paths

    for name, value in paths.layout(root / "data", root).items():
        monkeypatch.setattr(paths, name, value)
    return root


@pytest.fixture
def scratch_dirs(tmp_path, monkeypatch):
    """Point every data and output directory of ``paths`` at a temporary directory."""
    return point_paths_at(tmp_path, monkeypatch)
