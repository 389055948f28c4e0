"""The lattice paper's studies as functions the notebooks call, and the multi-seed runs on the
paper's own images whose results are committed as snapshots.

- ``stem_studies``: the model studies of notebooks 02-07 as small functions (load a slot, train or
  reuse a network or MLP, predict the test split); ``classification_study`` is the one study behind
  Table S1 and Table 2, called by notebooks 02 and 05 and by ``paper_runs``.
- ``corpus_stats``: how much a corpus looks like real 2D materials: realism figures and the
  data-only (mean-of-training) baseline of Table 1.
- ``paper_runs``: the loop over seeds of ``classification_study`` on the paper's own images, with a
  dated snapshot (summaries, run records and every test prediction).
- ``snapshots``: the committed snapshots (``reports/snapshots/``): which folders can be read, the
  newest of each set and profile, and what each keeps per image.
- ``symmetric_copies``: the class each paper-settings network gives each of the eight symmetric
  copies of each test image, added to the snapshot whose networks they are (one inference pass over
  the weights left in the data folder; nothing is trained).
- ``experimental``: notebook 08 as functions: the analysed part of a real image, and Table S6 with
  the sources and licences of the paper's literature images.
- ``distortion_study``: notebook 08's measured scan distortion: frames under a known distortion, the
  distortion measured from grains, a reference frame and an orthogonal pair, and the lattice after
  removing it.
- ``physics_baseline``: notebook 14 as functions: the FFT estimator beside DenseNet121 on the test
  splits, and on images degraded by dose, scan stretch and drift.
- ``rotation_robustness``: notebook 15 as functions: the structures a rotation study can score, and
  each method's errors per rotation and pixel size (lengths sorted, gamma folded).
- ``transfer``: notebook 05's transfer benchmark: the offline stand-in drawn like STEM-JV2D, a network
  trained on it alone scored on the set's real test images, beside the image-trained one and the FFT.
- ``train_models``: command line to train the networks of notebooks 02-07 ahead of the notebooks,
  also under ``torchrun``.
"""

__all__ = ["stem_studies", "corpus_stats", "paper_runs", "snapshots", "symmetric_copies", "experimental",
           "distortion_study", "physics_baseline", "rotation_robustness", "transfer", "train_models"]
