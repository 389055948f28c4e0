"""A small ResUNet (residual blocks with batch normalisation and dropout 0.1, U-Net skips by
concatenation) for per-pixel classification, as the defect-finding document; notebook 17
uses it with two classes to binarise FFT windows. Trained weights are cached by content key."""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core import paths, storage
from ..learn.fitting import FitFiles, cached_final, load_weights_into, run_epochs
from ..learn.training import default_device

__all__ = ["ResUNet", "train_segmenter", "predict_proba"]

UNET_VERSION = 1       # part of the cache key: raise it when the network or its training changes


class ResBlock(nn.Module):
    """Two 3 x 3 convolutions with batch normalisation, a (1 x 1 when the width changes) skip,
    ReLU and channel dropout."""

    def __init__(self, c_in: int, c_out: int, dropout: float = 0.1):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
                                  nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out))
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.drop = nn.Dropout2d(dropout)

    def forward(self, x):
        return self.drop(F.relu(self.body(x) + self.skip(x)))


class ResUNet(nn.Module):
    """A small residual U-Net for per-pixel classification: ``depth`` residual blocks down (max
    pooling), one at the bottom, ``depth`` up (transposed convolutions, skips concatenated), then
    a 1 x 1 convolution to the class logits. Widths ``base`` x 2^k.

    Args:
        in_ch: input channels.
        n_classes: number of classes (output channels).
        base: channels of the first block.
        depth: number of poolings; the input's height and width must be multiples of 2^depth.
    """

    def __init__(self, in_ch: int = 1, n_classes: int = 2, base: int = 16, depth: int = 3):
        super().__init__()
        self.depth = depth
        chans = [base * 2 ** k for k in range(depth + 1)]
        self.down = nn.ModuleList([ResBlock(in_ch if k == 0 else chans[k - 1], chans[k]) for k in range(depth)])
        self.bottom = ResBlock(chans[depth - 1], chans[depth])
        self.up = nn.ModuleList([nn.ConvTranspose2d(chans[k + 1], chans[k], 2, stride=2)
                                 for k in reversed(range(depth))])
        self.dec = nn.ModuleList([ResBlock(2 * chans[k], chans[k]) for k in reversed(range(depth))])
        self.head = nn.Conv2d(chans[0], n_classes, 1)

    def forward(self, x):
        """Class logits [N, n_classes, H, W] of images [N, in_ch, H, W] (H, W multiples of 2^depth)."""
        skips = []
        for blk in self.down:
            x = blk(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for up, dec, s in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), s], 1))
        return self.head(x)


def _check(images: np.ndarray, labels: np.ndarray | None = None):
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images: expected float32 [n, 1, H, W], got {images.shape} {images.dtype}")
    if labels is not None and (labels.shape != (images.shape[0], *images.shape[2:])
                               or not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"labels: expected integers [n, H, W] matching the images, got {labels.shape} {labels.dtype}")


def train_segmenter(name: str, images: np.ndarray, labels: np.ndarray, n_classes: int, epochs: int = 10,
                    lr: float = 2e-3, batch_size: int = 16, base: int = 16, depth: int = 3,
                    class_weights=None, seed: int = 0, force: bool = False, log=print) -> ResUNet:
    """Train (or load the cached) ResUNet on ``images`` [n, 1, H, W] with ``labels`` [n, H, W];
    cross-entropy weighted by ``class_weights``; random flips and quarter turns as augmentation.

    Adam with a cosine learning-rate schedule. The weights are cached under the models folder by a
    content key of the name, the settings and the data, and reused when the key matches. Each
    epoch takes ceil(n / ``batch_size``) batches, each a random draw of ``batch_size`` images.

    Args:
        name: name of the model (part of the cache folder's name).
        images: float32 [n, 1, H, W], H and W multiples of 2^``depth``.
        labels: integer class indices [n, H, W] in [0, ``n_classes``).
        n_classes: number of classes.
        epochs: number of epochs.
        lr: initial learning rate of Adam.
        batch_size: images per batch.
        base: channels of the network's first block.
        depth: number of poolings of the network.
        class_weights: cross-entropy weight of each class (``n_classes`` numbers), or None for equal
            weights.
        seed: seed of the initial weights, the batches and the augmentation.
        force: train again even when cached weights exist.
        log: function called with each progress line.

    Returns:
        The trained ``ResUNet``, on the CPU and in eval mode.

    Raises:
        ValueError: ``images`` is not [n, 1, H, W], or ``labels`` is not integer [n, H, W] matching it.
    """
    _check(images, labels)
    key = storage.content_key(name, UNET_VERSION, n_classes, epochs, lr, batch_size, base, depth,
                              None if class_weights is None else list(map(float, class_weights)), seed,
                              storage.array_key(images, 16), storage.array_key(labels, 16))
    settings = {"name": name, "n_classes": n_classes, "epochs": epochs, "lr": lr, "batch_size": batch_size,
                "base": base, "depth": depth, "seed": seed,
                "class_weights": None if class_weights is None else list(map(float, class_weights))}
    files = FitFiles(paths.ensure(paths.MODELS / f"resunet-{name}-{key}"), key, settings, UNET_VERSION)
    torch.manual_seed(seed)
    net = ResUNet(1, n_classes, base, depth)

    def load(state: dict) -> ResUNet:
        load_weights_into(net, state, files.final)
        log(f"{name}: reused cached ResUNet {paths.relative(files.final)}")
        return net.eval()

    cached = cached_final(files, force, log, load)
    if cached is not None:
        return cached
    device = default_device()
    net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(epochs, 1))
    w = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float32, device=device)
    # one generator for the whole fit (batches and augmentation): short fits, no checkpoints
    rng = np.random.default_rng(seed)
    n = len(images)

    def train_epoch(epoch: int) -> dict:
        net.train()
        t0, total = time.perf_counter(), 0.0
        for s in range(0, n, batch_size):
            b = np.sort(rng.permutation(n)[:batch_size])
            x = torch.from_numpy(images[b]).to(device)
            y = torch.from_numpy(labels[b]).to(device)
            k = int(rng.integers(4))
            x, y = torch.rot90(x, k, (2, 3)), torch.rot90(y, k, (1, 2))
            if rng.random() < 0.5:
                x, y = torch.flip(x, (3,)), torch.flip(y, (2,))
            loss = F.cross_entropy(net(x), y, weight=w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        sched.step()
        return {"epoch": epoch + 1, "loss": total / max(n, 1), "seconds": time.perf_counter() - t0}

    run_epochs(files, net, opt, epochs, train_epoch, scheduler=sched, resume=False, checkpoints=False, log=log,
               describe=lambda r: f"{name} epoch {r['epoch']}/{epochs}: loss {r['loss']:.4f} ({r['seconds']:.0f} s)")
    return net.cpu().eval()


@torch.no_grad()
def predict_proba(net: ResUNet, image: np.ndarray) -> np.ndarray:
    """Class probabilities [C, H, W] of one standardised image [H, W] (padded to the network's
    multiple of 2^depth, then cropped back).

    Args:
        net: a trained ``ResUNet`` (on the CPU).
        image: one standardised image [H, W].

    Returns:
        float32 array [C, H, W] of class probabilities (softmax over C).

    Raises:
        ValueError: ``image`` is not 2D.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError(f"expected one image [H, W], got shape {img.shape}")
    m = 2 ** net.depth
    H, W = img.shape
    ph, pw = (-H) % m, (-W) % m
    x = torch.from_numpy(np.pad(img, ((0, ph), (0, pw)), mode="reflect"))[None, None]
    net.eval()
    p = F.softmax(net(x), 1)[0, :, :H, :W]
    return p.numpy()
