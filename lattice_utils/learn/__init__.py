"""The networks of the lattice paper, one fitting loop for all of them, and the metrics they are
scored by.

- ``models``: DenseNet121 and GoogLeNet with the last layer replaced, and the frozen feature
  backbones of "Clip + MLP" (CLIP ViT-L/14 or the offline EfficientNet-Lite0).
- ``fitting``: the one cached, resumable fitting loop of every network (final file reused by key,
  checkpoint after each epoch, files of another configuration refused, damaged ones moved aside).
- ``training``: seeded training (on ``fitting``) and inference of the networks (fast path, DDP), and
  the eight symmetric copies of an image.
- ``metrics``: the regression and classification metrics of the paper (sections 2.2-2.3), each row
  with its n.
"""

__all__ = ["models", "fitting", "training", "metrics"]
