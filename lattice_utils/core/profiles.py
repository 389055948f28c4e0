"""The single source of truth for the smoke / quick / paper settings.

A notebook asks ``get_profile(name)`` and reads every size, seed and setting from the
returned object; nothing else in the repository hard-codes a dataset size.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["PAPER_CLASS_TOTALS", "DATASET_TITLES", "DATASETS", "XRD_PATTERN_SHAPE", "STEM_IMAGE_PX", "STEM_PX_SCALE",
           "NETWORK_INPUT_PX", "NETWORK_EPOCHS", "BATCH_SIZE", "LR_CLASSIFY", "LR_REGRESS", "PROFILES", "XrdSettings",
           "RelatedSettings", "Profile", "get_profile", "class_counts"]

# Table S3 of the paper: per-class totals (train + test) of each dataset, classes 0..4.
PAPER_CLASS_TOTALS = {
    "jv2d": (459, 172, 326, 34, 83),        # 1,074
    "c2db": (1579, 740, 718, 315, 168),     # 3,520
    "alex": (28571, 8956, 72894, 17565, 9846),  # 137,832
}
DATASET_TITLES = {"jv2d": "JV2D", "c2db": "C2DB", "alex": "Alex-PBE"}
DATASETS = tuple(PAPER_CLASS_TOTALS)


XRD_PATTERN_SHAPE = (321, 322)        # the XRD paper's detector image (H, W), px

# The main paper's settings, written once: the defaults of ``Profile``, ``stem.StemParams`` and
# ``training.TrainConfig`` and the resampling of ``predict`` are these names.
STEM_IMAGE_PX = 256        # section 2.1: simulated images of 256 x 256 px ...
STEM_PX_SCALE = 0.1        # ... at 0.1 Å per pixel: a 25.6 Å field of view
NETWORK_INPUT_PX = 224     # section 2.2: images resized to 224 px before the network
NETWORK_EPOCHS = 50        # section 2.2 (JV2D and C2DB; Alex-PBE: 500)
BATCH_SIZE = 16
LR_CLASSIFY = 1e-3         # Adam, constant learning rate
LR_REGRESS = 5e-4


@dataclass(frozen=True)
class XrdSettings:
    """Settings of the XRD zone-axis studies (notebooks 09-13); the paper's values in the paper profile.

    Attributes:
        per_group: structures generated per space group (the paper's cap).
        group_stride: every n-th space group is used (smoke: a subset of the 230).
        max_atoms: atoms per cell at most; larger PyXtal cells are redrawn.
        attempt_timeout_s: CPU time (s) after which one PyXtal attempt is abandoned
            (``parallel.time_limit``).
        attempts: PyXtal attempts per structure before it is skipped.
        split: (train, validation, test) fractions, per space group.
        image_shape: (H, W) px of the detector image the network sees.
        width: channels of the first conv block (doubling to 8x).
        hidden: units of each of the two fully connected layers.
        epochs: training epochs.
        batch_size: images per training batch.
        lr: learning rate.
        batch_norm: batch normalisation in the CNN (the paper's CNN has none; the scaled profiles
            need it).
        representation: network input: "cartesian" (the detector image, the paper's) or "polar".
        cache_limit_gb: rendered training images are cached when they fit under this size (GB,
            1e9 bytes).
        perturb_n: structures per perturbation study (paper: 6,038 cubic).
    """
    per_group: int = 500              # structures generated per space group (the paper's cap)
    group_stride: int = 1             # every n-th space group (smoke: a subset of the 230)
    max_atoms: int = 250              # larger PyXtal cells are redrawn
    attempt_timeout_s: float = 20.0   # one PyXtal attempt is abandoned after this
    attempts: int = 8                 # PyXtal attempts per structure before it is skipped
    split: tuple = (0.7, 0.2, 0.1)    # train / validation / test, per space group
    image_shape: tuple = XRD_PATTERN_SHAPE
    width: int = 64                   # channels of the first conv block (doubles to 8x)
    hidden: int = 4096                # the two fully connected layers
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-4
    batch_norm: bool = False          # the paper's CNN has none; the scaled profiles need it
    representation: str = "cartesian" # network input: the detector image (paper) or "polar"
    cache_limit_gb: float = 4.0       # rendered training images are cached below this size
    perturb_n: int = 6038             # structures per perturbation study (paper: 6,038 cubic)


@dataclass(frozen=True)
class RelatedSettings:
    """Settings of notebooks 16-18 (related methods); the documents' sizes in the paper profile.

    Attributes:
        defect_images: simulated regions of notebook 16 (defect finding and class averaging, 001);
            the document's 4000 nm^2 is 9 regions of 1024^2 px at 20.74 pm per pixel.
        defect_image_px: side of each region (px).
        defect_dose: electron dose, counts on a W column peak.
        defect_jitter_px: scan jitter, standard deviation per row (px).
        defect_train_crops: training windows (the document's 14,600).
        defect_crop_px: side of a training window (px).
        defect_epochs: training epochs (the document: 550-2500).
        unet_base: channels of the U-Net's first level.
        bootstrap: bootstrap resamples (the document's M).
        fft_image_px: side of notebook 17's image (moving-window FFT, 002; the document's example:
            2048^2 px with 256^2 px windows).
        fft_window_px: side of a moving window (px).
        fft_train_windows: training windows.
        fft_epochs: training epochs.
        scan_px: probe positions per side of notebook 18's 4D-STEM scan (hierarchical clustering,
            003).
        detector_px: detector pixels per side (EMPAD: 128 x 128).
        kmeans_restarts: k-means restarts (the document's repeat-run check).
    """
    # 16: defect finding and class averaging (the defect class-averaging paper)
    defect_images: int = 9            # 9 regions of 1024^2 px at 20.74 pm: the document's 4000 nm^2
    defect_image_px: int = 1024
    defect_dose: float = 20.0         # counts on a W column peak
    defect_jitter_px: float = 0.9     # scan jitter, std per row
    defect_train_crops: int = 14600   # the document's training windows
    defect_crop_px: int = 256
    defect_epochs: int = 550          # the document: 550-2500
    unet_base: int = 32
    bootstrap: int = 22500            # the document's M
    # 17: moving-window FFT (Zhu et al., HRTEM nanoparticles)
    fft_image_px: int = 2048          # the document's example: 2048^2 with 256^2 windows
    fft_window_px: int = 256
    fft_train_windows: int = 4000
    fft_epochs: int = 50
    # 18: 4D-STEM hierarchical clustering (the 4D-STEM divisive K-means paper)
    scan_px: int = 128                # probe positions per side
    detector_px: int = 128            # EMPAD: 128 x 128
    kmeans_restarts: int = 100        # the document's repeat-run check


@dataclass(frozen=True)
class Profile:
    """One run size (smoke, quick or paper): every dataset size, seed and setting a notebook reads.

    The STEM simulation keeps the paper's settings (section 2.1) in every profile; the networks
    (sections 2.2-2.3) keep them unless a profile scales them down.

    Attributes:
        name: the profile's name ("smoke", "quick", "paper").
        corpus_sizes: {dataset slot ("jv2d", "c2db", "alex"): number of structures}.
        seed: random seed of the corpus, split and training.
        image_px: side of a simulated STEM image (px).
        px_scale: STEM pixel size (Å per pixel: 256 px cover 2.56 nm).
        chunk_size: images per stored chunk file.
        workers: processes for corpus and image builds (0: all cores, at most
            ``parallel.MAX_WORKERS``).
        test_fraction: share of each dataset held out for testing.
        examples_per_class: images per class in the Figure 1 image panel.
        input_px: side (px) the images are resized to before the network.
        epochs: {dataset slot: training epochs}.
        batch_size: images per training batch.
        lr_classify: learning rate of the classifiers (Adam, constant in the paper).
        lr_regress: learning rate of the a, b, gamma regressors.
        googlenet_weight_decay: GoogLeNet's L2 weight decay (the paper's unstated lambda).
        lr_schedule: "constant" (paper) or "cosine" (scaled profiles: fewer epochs).
        precision: "auto": bf16 autocast on CPUs with native bf16, AMP on GPU.
        backbone: frozen feature extractor of the paper's "Clip + MLP" (``clip_vit_l14`` when its
            weights are on disk).
        feature_px: side (px) of the images given to the backbone.
        mlp_hidden: {dataset slot: widths of the MLP's hidden layers}.
        mlp_epochs: {dataset slot: MLP training epochs}.
        xrd: the XRD studies' settings.
        related: the related methods' settings.
        notes: what the profile is for.
        extra: free-form further settings.
    """
    name: str
    corpus_sizes: dict            # dataset slot -> number of structures
    seed: int = 0
    # STEM simulation: the paper's settings in every profile (section 2.1)
    image_px: int = STEM_IMAGE_PX
    px_scale: float = STEM_PX_SCALE   # A per pixel: 256 px cover 2.56 nm
    chunk_size: int = 256         # images per stored chunk file
    workers: int = 2              # processes for corpus and image builds
    test_fraction: float = 0.2
    examples_per_class: int = 1   # Figure 1 image panel
    # ---- networks (section 2.2-2.3): the paper's settings unless a profile scales them
    input_px: int = NETWORK_INPUT_PX   # images resized to this before the network
    epochs: dict = field(default_factory=lambda: {"jv2d": NETWORK_EPOCHS, "c2db": NETWORK_EPOCHS,
                                                  "alex": 500})
    batch_size: int = BATCH_SIZE
    lr_classify: float = LR_CLASSIFY
    lr_regress: float = LR_REGRESS
    googlenet_weight_decay: float = 1e-4   # the paper's unstated L2 lambda
    lr_schedule: str = "constant"   # constant (paper) | cosine (scaled profiles: fewer epochs)
    precision: str = "auto"       # auto: bf16 autocast on CPUs with native bf16, AMP on GPU
    # ---- frozen features + MLP (the paper's "Clip + MLP")
    backbone: str = "efficientnet_lite0"   # clip_vit_l14 when its weights are on disk
    feature_px: int = 224
    mlp_hidden: dict = field(default_factory=lambda: {"jv2d": (256, 128), "c2db": (512, 256),
                                                      "alex": (512, 256)})
    mlp_epochs: dict = field(default_factory=lambda: {"jv2d": 200, "c2db": 400, "alex": 400})
    xrd: XrdSettings = XrdSettings()
    related: RelatedSettings = RelatedSettings()
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The profile as a plain (nested) dict, e.g. for a run's record."""
        return asdict(self)


PROFILES = {
    "smoke": Profile(
        name="smoke",
        corpus_sizes={"jv2d": 60, "c2db": 80, "alex": 120},
        chunk_size=64,
        input_px=32, epochs={"jv2d": 1, "c2db": 1, "alex": 1}, lr_schedule="cosine",
        feature_px=64, mlp_epochs={"jv2d": 20, "c2db": 20, "alex": 20},
        xrd=XrdSettings(per_group=4, group_stride=10, max_atoms=60, attempt_timeout_s=5.0,
                        attempts=4, image_shape=(32, 32), width=4, hidden=32, epochs=1,
                        batch_size=32, lr=1e-3, batch_norm=True, representation="polar", perturb_n=6),
        related=RelatedSettings(defect_images=2, defect_image_px=384, defect_train_crops=256, defect_crop_px=64,
                                defect_epochs=4, unet_base=8, bootstrap=20, fft_image_px=512,
                                fft_window_px=128, fft_train_windows=48, fft_epochs=1, scan_px=24,
                                detector_px=32, kmeans_restarts=3),
        notes="CI: every notebook end to end on tiny data.",
    ),
    "quick": Profile(
        name="quick",
        corpus_sizes={"jv2d": 1074, "c2db": 1400, "alex": 3000},
        input_px=64, epochs={"jv2d": 10, "c2db": 8, "alex": 5}, lr_schedule="cosine",
        xrd=XrdSettings(per_group=16, max_atoms=120, attempt_timeout_s=3.0, attempts=6,
                        image_shape=(48, 48), width=8, hidden=256, epochs=5, batch_size=128,
                        lr=3e-4, batch_norm=True, representation="polar", perturb_n=200),
        related=RelatedSettings(defect_images=8, defect_train_crops=1200, defect_crop_px=64, defect_epochs=8,
                                unet_base=16, bootstrap=500, fft_image_px=1024, fft_train_windows=600,
                                fft_epochs=6, scan_px=64, detector_px=64, kmeans_restarts=20),
        notes="Default: every figure and table, scaled to a 2-core CPU machine.",
    ),
    "paper": Profile(
        name="paper",
        corpus_sizes={k: sum(v) for k, v in PAPER_CLASS_TOTALS.items()},
        workers=0,  # 0 -> all cores, at most 16 (each worker holds ~0.2 GB)
        notes="The paper's sizes (1,074 / 3,520 / 137,832); meant for a many-core or GPU machine.",
    ),
}


def get_profile(name: str) -> Profile:
    """The settings of a named run size.

    Args:
        name: "smoke", "quick" or "paper".

    Returns:
        The ``Profile`` of that name (from ``PROFILES``).

    Raises:
        ValueError: an unknown name; the message lists the known ones.
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None


def class_counts(total: int, dataset: str) -> list[int]:
    """Split ``total`` over the five classes in the proportions of the paper's Table S3
    (largest-remainder rounding, so the counts add up exactly).

    Args:
        total: number of structures to split.
        dataset: dataset slot whose proportions are used ("jv2d", "c2db" or "alex").

    Returns:
        Five counts, classes 0..4 (hexagonal, square, rectangular, centred rectangular, oblique),
        summing to ``total``.

    Raises:
        KeyError: an unknown dataset slot.
    """
    weights = PAPER_CLASS_TOTALS[dataset]
    exact = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(5), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts
