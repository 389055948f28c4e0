"""The XRD paper's CNN (section 2.3) and its training, evaluation and metrics.

Four convolution blocks (two 3 x 3 convolutions + ReLU each, then 2 x 2 max pooling; channels
w, 2w, 4w, 8w with w = 64 in the paper: 64 -> 512), two fully connected layers of ``hidden``
(4096 in the paper) and two heads: 230 space groups and 7 crystal systems. The scaled profiles
add BatchNorm after each convolution (``batch_norm``): on their small datasets the plain network
did not learn at all in the epochs a CPU allows (docs/deviations.md#deviation-24). Cross-entropy on both
heads, Adam. The paper does not say how the last feature map is flattened; we pool it to at most
7 x 7 as VGG does (a 321 px input would otherwise give 20 x 20 x 512 inputs to a 4096-wide layer,
840 M weights).

Training is cached by its full configuration (like ``lattice_utils.learn.training``): a checkpoint is
written atomically after every epoch and an interrupted run resumes; a finished model is reused.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core import paths, storage
from ..core.profiles import XRD_PATTERN_SHAPE
from ..learn.fitting import (
    FitFiles,
    autocast,
    cached_final,
    default_device,
    load_weights_into,
    resolve_precision,
    run_epochs,
)
from .symmetry import crystal_systems

__all__ = ["N_GROUPS", "N_SYSTEMS", "XrdCNN", "XrdConfig", "XrdModel", "train_xrd", "make_config", "top_k_hits",
           "accuracy_table"]

XRD_VERSION = 1
N_GROUPS, N_SYSTEMS = 230, 7


class XrdCNN(nn.Module):
    """The XRD paper's CNN: four convolution blocks, two fully connected layers and two heads
    (230 space groups, 7 crystal systems); see the module docstring.

    Args:
        width: channels of the first convolution block (doubling to 8 x width).
        hidden: width of the two fully connected layers.
        input_shape: the input images' (H, W) in pixels (sets the pooled feature-map size).
        batch_norm: BatchNorm after each convolution (the scaled profiles; the paper has none).
    """

    def __init__(self, width: int = 64, hidden: int = 4096, input_shape=XRD_PATTERN_SHAPE,
                 batch_norm: bool = False):
        super().__init__()
        layers, c_in = [], 1
        for k in range(4):
            c = width * 2 ** k
            for c_from in (c_in, c):
                layers += [nn.Conv2d(c_from, c, 3, padding=1)]
                layers += [nn.BatchNorm2d(c)] if batch_norm else []
                layers += [nn.ReLU(inplace=True)]
            layers += [nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        side = max(1, min(7, min(input_shape) // 16))
        self.pool = nn.AdaptiveAvgPool2d(side)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c_in * side * side, hidden), nn.ReLU(inplace=True),
                                nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
                                nn.Dropout(0.5))
        self.space_group = nn.Linear(hidden, N_GROUPS)
        self.crystal_system = nn.Linear(hidden, N_SYSTEMS)
        # He initialisation, as torchvision's VGG: with PyTorch's default init a BatchNorm-free
        # stack of 8 convolutions starts with a vanishing signal and does not learn
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        """Logits (space group [n, 230], crystal system [n, 7]) of images x, float [n, 1, H, W] in [0, 1]."""
        h = self.fc(self.pool(self.features(x)))
        return self.space_group(h), self.crystal_system(h)


@dataclass(frozen=True)
class XrdConfig:
    """Everything that determines a trained XRD model; its content key names the model's folder.

    Attributes:
        name: model-1 .. model-4, or any label.
        data_key: identity of the training patterns.
        image_shape: the input images' (H, W) in pixels.
        width: channels of the first convolution block.
        hidden: width of the fully connected layers.
        epochs: training epochs.
        batch_size: images per batch.
        lr: Adam's learning rate.
        seed: seed of the initialisation and the batch order.
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"`` (autocast).
        batch_norm: BatchNorm after each convolution.
        representation: the input image: ``"cartesian"`` (detector, the paper) or ``"polar"``.
    """

    name: str                     # model-1 .. model-4, or any label
    data_key: str                 # identity of the training patterns
    image_shape: tuple = XRD_PATTERN_SHAPE
    width: int = 64
    hidden: int = 4096
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-4
    seed: int = 0
    precision: str = "fp32"
    batch_norm: bool = False
    representation: str = "cartesian"     # the input image: detector (paper) or polar resampling

    def key(self) -> str:
        """Content key of the configuration and the code version (12 hex digits)."""
        return storage.content_key(asdict(self), XRD_VERSION)

    def directory(self) -> Path:
        """The model's folder: ``paths.MODELS / "xrd-<name>-<key>"``."""
        return paths.MODELS / f"xrd-{self.name}-{self.key()}"


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)


@dataclass
class XrdModel:
    """A trained XRD CNN with its configuration and training history.

    Attributes:
        config: the ``XrdConfig`` it was trained with.
        net: the ``XrdCNN``.
        history: one dict per epoch: ``epoch``, ``loss``, ``train_sg_acc``, ``seconds`` and, with
            validation images, ``val_sg_acc`` and ``val_cs_acc`` (accuracies as fractions).
        path: the checkpoint file its weights come from.
    """

    config: XrdConfig
    net: XrdCNN
    history: list
    path: Path

    @torch.no_grad()
    def predict_proba(self, images, batch_size: int = 256):
        """(space-group probabilities [n, 230], crystal-system probabilities [n, 7]) of uint8 images
        [n, H, W] (0-255), in batches of ``batch_size``."""
        self.net.eval()
        device = next(self.net.parameters()).device
        sg, cs = [], []
        for s in range(0, len(images), batch_size):
            x = _to_tensor(images[s:s + batch_size]).to(device)
            with autocast(device, self.config.precision):
                a, b = self.net(x)
            sg.append(F.softmax(a.float(), 1).cpu().numpy())
            cs.append(F.softmax(b.float(), 1).cpu().numpy())
        if not sg:
            return np.zeros((0, N_GROUPS)), np.zeros((0, N_SYSTEMS))
        return np.concatenate(sg), np.concatenate(cs)


def _files(config: XrdConfig) -> FitFiles:
    # the code version is part of the key already (XRD_VERSION): files carry no separate one
    return FitFiles(paths.ensure(config.directory()), config.key(), asdict(config), version=None)


def train_xrd(config: XrdConfig, images, space_groups, val_images=None, val_groups=None,
              force: bool = False, log=print) -> XrdModel:
    """Train (or load) the CNN on ``images`` [n, H, W] uint8 with labels 1-230.

    Cross-entropy on both heads (the crystal system follows from the space group), Adam. A
    finished model of the same configuration is loaded instead; an interrupted run resumes from
    its checkpoint unless ``force``.

    Args:
        config: the configuration.
        images: [n, H, W] uint8 training images (0-255; an array, memory map or ``LazyImages``).
        space_groups: [n] space-group numbers 1-230.
        val_images: optional [n_val, H, W] uint8 validation images, scored after every epoch.
        val_groups: [n_val] their space-group numbers 1-230.
        force: train afresh even when a model or checkpoint exists.
        log: where progress lines go (``print`` by default).

    Returns:
        The trained ``XrdModel`` (in eval mode).
    """
    device = default_device()
    files = _files(config)
    torch.manual_seed(config.seed)
    net = XrdCNN(config.width, config.hidden, config.image_shape, config.batch_norm).to(device)

    def load(state: dict) -> XrdModel:
        load_weights_into(net, state, files.final)
        return XrdModel(config, net.eval(), state.get("history") or [], files.final)

    cached = cached_final(files, force, log, load)
    if cached is not None:
        return cached
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    sg = np.asarray(space_groups, dtype=np.int64) - 1
    cs = crystal_systems(sg + 1)
    n = len(sg)

    def train_epoch(epoch: int) -> dict:
        net.train()
        order = np.random.default_rng([config.seed, epoch]).permutation(n)
        t0, total, correct = time.perf_counter(), 0.0, 0
        for s in range(0, n, config.batch_size):
            b = np.sort(order[s:s + config.batch_size])
            x = _to_tensor(images[b]).to(device)
            y1 = torch.from_numpy(sg[b]).to(device)
            y2 = torch.from_numpy(cs[b]).to(device)
            with autocast(device, config.precision):
                a, c = net(x)
            loss = F.cross_entropy(a.float(), y1) + F.cross_entropy(c.float(), y2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
            correct += int((a.argmax(1) == y1).sum())
        rec = {"epoch": epoch + 1, "loss": total / n, "train_sg_acc": correct / n,
               "seconds": time.perf_counter() - t0}
        if val_images is not None and len(val_images):
            p_sg, p_cs = XrdModel(config, net, [], files.checkpoint).predict_proba(val_images)
            vg = np.asarray(val_groups) - 1
            rec["val_sg_acc"] = float((p_sg.argmax(1) == vg).mean())
            rec["val_cs_acc"] = float((p_cs.argmax(1) == crystal_systems(vg + 1)).mean())
        return rec

    def describe(rec: dict) -> str:
        return (f"{config.name} epoch {rec['epoch']}/{config.epochs}: loss {rec['loss']:.3f}"
                + (f", val space group {rec['val_sg_acc']:.3f}, crystal system {rec['val_cs_acc']:.3f}"
                   if "val_sg_acc" in rec else "") + f" ({rec['seconds']:.0f} s)")

    history = run_epochs(files, net, opt, config.epochs, train_epoch, resume=not force,
                         describe=describe, log=log)
    return XrdModel(config, net.eval(), history, files.final)


def make_config(name: str, profile, data_key: str, **overrides) -> XrdConfig:
    """The ``XrdConfig`` of a profile's XRD settings.

    Args:
        name: the model's name (model-1 .. model-4, or any label).
        profile: the run profile (its ``xrd`` settings, seed and precision).
        data_key: identity of the training patterns.
        **overrides: ``XrdConfig`` fields to set otherwise.

    Returns:
        The configuration.
    """
    X = profile.xrd
    kw = dict(name=name, data_key=data_key, image_shape=tuple(X.image_shape), width=X.width,
              hidden=X.hidden, epochs=X.epochs, batch_size=X.batch_size, lr=X.lr,
              batch_norm=X.batch_norm, representation=X.representation,
              seed=profile.seed, precision=resolve_precision(profile.precision))
    kw.update(overrides)
    return XrdConfig(**kw)


# ------------------------------------------------------------------ metrics

def top_k_hits(proba: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    """Per sample: is the true class (0-based) among the k most probable.

    Args:
        proba: [n, n_classes] class probabilities (or any scores).
        truth: [n] true classes, 0-based.
        k: how many of the most probable classes count.

    Returns:
        Bool array [n].
    """
    top = np.argsort(-proba, axis=1)[:, :k]
    return (top == np.asarray(truth)[:, None]).any(axis=1)


def accuracy_table(proba: np.ndarray, truth: np.ndarray) -> dict:
    """The paper's measures: weighted accuracy (per-class accuracy weighted by the class's
    share of the samples, which equals the overall accuracy) and top-3 accuracy; also the
    balanced (unweighted mean per-class) accuracy, which no class imbalance can inflate.

    Args:
        proba: [n, n_classes] class probabilities.
        truth: [n] true classes, 0-based.

    Returns:
        A dict: ``n`` (samples), ``weighted_acc``, ``top3_acc`` and ``balanced_acc`` (fractions in
        [0, 1], over the classes present in ``truth``; NaN when there are no samples).
    """
    truth = np.asarray(truth)
    pred = proba.argmax(axis=1)
    if len(truth) == 0:
        return {"n": 0, "weighted_acc": np.nan, "top3_acc": np.nan, "balanced_acc": np.nan}
    classes = np.unique(truth)
    per_class = np.array([(pred[truth == c] == c).mean() for c in classes])
    return {"n": int(len(truth)), "weighted_acc": float((pred == truth).mean()),
            "top3_acc": float(top_k_hits(proba, truth, 3).mean()),
            "balanced_acc": float(per_class.mean())}
