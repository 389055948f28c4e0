"""Training and inference of the lattice networks.

* Seeded: the batch order of epoch ``e`` is a permutation drawn from ``(seed, e)``, so a resumed
  run and a run under torchrun see the same batches as an uninterrupted single process.
* Resumable: a checkpoint is written atomically after every epoch; an interrupted run restarts
  from the last completed epoch.
* Cached by configuration: ``data/models/<arch>-<task>-<key>/final.pt`` where the key hashes
  every setting and the identity of the training data. A file written for one configuration is
  refused, with the differing settings named, when another is asked for.
* Fast path: channels_last and bf16 autocast on CPUs with native bf16, bf16/fp16 AMP on GPU.
* Distributed: under ``torchrun`` each global batch of ``batch_size`` is split across the
  processes and DDP averages the gradients (gloo on CPU, NCCL on GPU).
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ..core import paths, storage
from ..core.profiles import BATCH_SIZE, LR_CLASSIFY, NETWORK_EPOCHS, NETWORK_INPUT_PX
from ..data.datasets import resize_images
from ..data.real_images import PIXEL_SIZE_RANGE

from .fitting import (PRECISIONS, ConfigMismatchError, FitFiles, autocast, cached_final, default_device,
                      load_weights_into, resolve_precision, run_epochs)
from .metrics import PARAMETERS, REDUCED_PARAMETERS
from .models import ARCHITECTURES, IMAGENET_MEAN, IMAGENET_STD, build_network

# the module's interface: its own names and, for the notebooks, the fitting loop's device and
# precision choice and the one input resizing
__all__ = ["INPUT_PX_RANGE", "N_CLASSES_RANGE", "REGISTRY", "TARGET_RANGE", "TASKS", "TRAINING_VERSION", "EpochInputs",
           "Inputs", "TrainConfig", "TrainedModel", "check_model_numbers", "data_key", "default_device",
           "DIHEDRAL_COPIES", "dihedral_copies", "load_trained", "load_weights", "load_weights_into", "prepare_inputs",
           "register_model", "registered_models", "resize_images", "resolve_precision", "to_network_input", "train"]

TRAINING_VERSION = 1
TASKS = ("classify", "regress")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one network's training; its content key names the model's folder.

    Attributes:
        task: ``classify`` (Bravais class) or ``regress`` (lattice parameters).
        arch: ``densenet121``, ``googlenet`` or ``small_cnn``.
        targets: ``("label",)``, or a subset of ``("a", "b", "gamma")`` or of their reduced-cell names
            (``metrics.REDUCED_PARAMETERS``).
        data_key: identity of the training images and targets (``data_key``).
        input_px: side of the network's input images, in pixels.
        epochs: number of training epochs.
        batch_size: global batch size, in images (split across processes under torchrun).
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        lr_schedule: ``constant`` or ``cosine`` (per step, to zero).
        augment: ``none`` or ``flips`` (x and y mirrors keep a, b, gamma and a || x).
        seed: seed of the initial weights, the batch order and the augmentation.
        precision: ``fp32``, ``bf16`` or ``fp16`` (resolve ``auto`` first).
        channels_last: use the channels_last memory format.
        n_classes: number of classes of a classifier.

    Raises:
        ValueError: on construction, for an unknown task, precision, augmentation or schedule.
    """
    task: str                       # classify | regress
    arch: str                       # densenet121 | googlenet | small_cnn
    targets: tuple                  # ("label",) or a subset of ("a", "b", "gamma")
    data_key: str                   # identity of the training images and targets
    input_px: int = NETWORK_INPUT_PX
    epochs: int = NETWORK_EPOCHS
    batch_size: int = BATCH_SIZE
    lr: float = LR_CLASSIFY
    weight_decay: float = 0.0
    lr_schedule: str = "constant"   # constant | cosine (per step, to zero)
    augment: str = "none"           # none | flips (x and y mirrors keep a, b, gamma and a || x)
    seed: int = 0
    precision: str = "fp32"         # fp32 | bf16 | fp16 (resolve "auto" first)
    channels_last: bool = True
    n_classes: int = 5

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {self.task!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS} (resolve 'auto' with "
                             f"resolve_precision), not {self.precision!r}")
        if self.augment not in ("none", "flips"):
            raise ValueError(f"augment must be none or flips, not {self.augment!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be constant or cosine, not {self.lr_schedule!r}")
        object.__setattr__(self, "targets", tuple(self.targets))

    @property
    def n_outputs(self) -> int:
        """Outputs of the network: ``n_classes`` for a classifier, one per target for a regressor."""
        return self.n_classes if self.task == "classify" else len(self.targets)

    def as_dict(self) -> dict:
        """The settings as plain types (``targets`` a list), as stored in weights files."""
        d = dataclasses.asdict(self)
        d["targets"] = list(self.targets)
        return d

    def key(self) -> str:
        """Content key of the settings and the training code version."""
        return storage.content_key(self.as_dict(), TRAINING_VERSION)

    def directory(self) -> Path:
        """The model's folder, ``data/models/<arch>-<task>-<targets or bravais>-<key>``."""
        tag = "-".join(self.targets) if self.task == "regress" else "bravais"
        return paths.MODELS / f"{self.arch}-{self.task}-{tag}-{self.key()}"


# ------------------------------------------------------------------ inputs

@dataclass
class Inputs:
    """Images of one store resized to a network's input size: ``images[i]`` is row ``i``.

    Attributes:
        images: uint8 [N, px, px], memory-mapped.
        key: identity of the resized images (the store's folder name and ``px``).
        px: side of the images, in pixels.
        field_A: the field of view of every image in Å (None: not known); a trained model keeps
            it, so that ``predict`` resamples a user's image to the scale the network learned.
    """
    images: np.ndarray      # [N, px, px] uint8, memory-mapped
    key: str
    px: int
    # the field of view of every image in Å (None: not known); a trained model keeps it, so
    # that ``predict`` resamples a user's image to the scale the network learned
    field_A: float | None = None

    def __len__(self):
        return len(self.images)


@dataclass
class EpochInputs:
    """Different images of the same rows for each epoch (augmentation simulated ahead: epoch e
    reads ``per_epoch[e % len(per_epoch)]``), so every epoch sees fresh draws.

    Attributes:
        per_epoch: ``Inputs`` of the same rows and size, one per simulated epoch.

    Raises:
        ValueError: on construction, when ``per_epoch`` is empty, of mixed sizes or of
            different row counts.
    """
    per_epoch: list

    def __post_init__(self):
        if not self.per_epoch or len({i.px for i in self.per_epoch}) != 1:
            raise ValueError("EpochInputs needs at least one Inputs, all of one size")
        if len({len(i) for i in self.per_epoch}) != 1:
            raise ValueError("EpochInputs: every epoch must hold the same rows")

    @property
    def px(self) -> int:
        """Side of the images, in pixels."""
        return self.per_epoch[0].px

    @property
    def key(self) -> str:
        """Identity of all epochs' images."""
        return storage.content_key([i.key for i in self.per_epoch])

    @property
    def field_A(self) -> float | None:
        """The common field of view of the images in Å, or None when unknown or not shared."""
        fields = {i.field_A for i in self.per_epoch}
        return fields.pop() if len(fields) == 1 else None

    def for_epoch(self, epoch: int) -> Inputs:
        """The images of epoch ``epoch`` (0-based, cycling through ``per_epoch``)."""
        return self.per_epoch[epoch % len(self.per_epoch)]

    def __len__(self):
        return len(self.per_epoch[0])


def prepare_inputs(store, px: int, force: bool = False) -> Inputs:
    """Resize every image of an ImageStore once and keep the result memory-mapped.

    Memory stays bounded for any dataset size; the file in ``data/inputs/`` is rebuilt when
    missing or truncated, and written atomically.

    Args:
        store: the ``datasets.ImageStore`` to resize.
        px: side of the network's input images, in pixels.
        force: resize again even when the file exists.

    Returns:
        The inputs: uint8 [N, px, px] memory-mapped, with the store's field of view in Å
        (``image_px`` x ``px_scale``).
    """
    path = paths.INPUTS / f"{store.root.name}-px{px}.npy"
    arr = None if force else storage.load_npy_checked(path, (px, px), np.uint8)
    if arr is None or len(arr) != len(store):
        paths.ensure(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(store), px, px))
        for c in range(store.n_chunks()):
            lo, hi = c * store.chunk_size, min(len(store), (c + 1) * store.chunk_size)
            out[lo:hi] = resize_images(store.chunk(c), px)
        out.flush()
        del out
        os.replace(tmp, path)
        arr = storage.load_npy_checked(path, (px, px), np.uint8)
    return Inputs(arr, f"{store.root.name}-px{px}", px,
                  field_A=float(store.params.image_px * store.params.px_scale))


def to_network_input(images_uint8: np.ndarray, channels_last: bool = True,
                     mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    """The paper's preprocessing: grey copied to 3 channels, ImageNet-normalised.

    Args:
        images_uint8: uint8 [B, px, px] images.
        channels_last: return the tensor in channels_last memory format.
        mean: per-channel (RGB) mean on the 0-1 scale.
        std: per-channel (RGB) standard deviation on the 0-1 scale.

    Returns:
        float32 [B, 3, px, px]: (image / 255 - mean) / std.
    """
    x = torch.from_numpy(np.array(images_uint8, dtype=np.uint8)).float().div_(255.0)[:, None]
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    x = (x - m) / s
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def data_key(inputs: Inputs, rows, targets) -> str:
    """Identity of a training set: the resized images it comes from, the rows, the targets.

    Args:
        inputs: the resized images (``Inputs`` or ``EpochInputs``).
        rows: the training rows of ``inputs``.
        targets: their targets (class labels, or a, b in Å and gamma in degrees), rounded to
            6 decimals for the key.

    Returns:
        A content key (hex string) for ``TrainConfig.data_key``.
    """
    t = np.asarray(targets, dtype=float)
    return storage.content_key(inputs.key, np.asarray(rows).tolist(), np.round(t, 6).tolist())


# ------------------------------------------------------------------ distributed

@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=default_device)

    @classmethod
    def from_env(cls) -> "_Dist":
        world = int(os.environ.get("WORLD_SIZE", 1))
        if world > 1 and not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            if torch.cuda.is_available():
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
            dist.init_process_group(backend)
        rank = dist.get_rank() if world > 1 else 0
        return cls(rank, world, default_device())

    def barrier(self):
        if self.world > 1:
            dist.barrier()

    def sum(self, *values: float) -> list[float]:
        if self.world == 1:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64,
                         device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t)
        return t.tolist()


# ------------------------------------------------------------------ trained model

@dataclass
class TrainedModel:
    """A trained network with what it needs to predict.

    Attributes:
        config: its training configuration.
        model: the network (eval mode).
        history: one record per epoch (loss, seconds, images per second).
        target_mean: regression: training mean of each target (a, b in Å, gamma in degrees); None
            for a classifier.
        target_std: regression: training standard deviation of each target, same units; None for a
            classifier.
        path: its ``final.pt``.
        meta: device, world size, torch version, threads, ``n_train``, ``field_of_view_A`` (Å).
    """
    config: TrainConfig
    model: nn.Module
    history: list
    target_mean: np.ndarray | None
    target_std: np.ndarray | None
    path: Path
    meta: dict

    @property
    def field_A(self) -> float | None:
        """Field of view of the training images in Å; None for a file written before it was
        recorded (those were all trained on the simulated 25.6 Å images)."""
        v = self.meta.get("field_of_view_A")
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else None

    @torch.inference_mode()
    def predict(self, inputs: Inputs, rows, batch_size: int = 64) -> np.ndarray:
        """Regression: a, b, gamma in physical units; classification: class scores (logits)."""
        if inputs.px != self.config.input_px:
            raise ValueError(f"inputs are {inputs.px} px but {paths.relative(self.path)} was "
                             f"trained on {self.config.input_px} px")
        if (inputs.field_A is not None and self.field_A is not None
                and abs(inputs.field_A / self.field_A - 1) > 0.01):
            raise ValueError(f"the images show a {inputs.field_A:.4g} Å field of view but "
                             f"{paths.relative(self.path)} was trained on {self.field_A:.4g} Å: "
                             "resample them first (predict.prepare_for_model does)")
        device = next(self.model.parameters()).device
        self.model.eval()
        rows = np.asarray(rows, dtype=int)
        out = []
        for b in range(0, len(rows), batch_size):
            x = to_network_input(inputs.images[rows[b:b + batch_size]],
                                 self.config.channels_last).to(device)
            with autocast(device, self.config.precision):
                out.append(self.model(x).float().cpu().numpy())
        y = np.concatenate(out) if out else np.zeros((0, self.config.n_outputs), np.float32)
        if self.config.task == "regress":
            y = y * self.target_std + self.target_mean
        return y.astype(np.float64)

    def predict_classes(self, inputs: Inputs, rows) -> np.ndarray:
        """Predicted class of each row: the argmax of ``predict``'s scores, int [len(rows)]."""
        return self.predict(inputs, rows).argmax(axis=1)

    @torch.inference_mode()
    def symmetric_probabilities(self, inputs: Inputs, rows, batch_size: int = 64) -> np.ndarray:
        """Class probabilities averaged over the image's eight symmetric copies (rotations by
        multiples of 90° and their mirrors): a lattice's Bravais class does not change under them,
        so the average removes what the network wrongly ties to the image's orientation.

        Args:
            inputs: the prepared images.
            rows: the rows of ``inputs`` to classify.
            batch_size: images per forward pass.

        Returns:
            float64 [len(rows), n_classes], each row summing to 1.

        Raises:
            ValueError: the network is a regressor (a rotation by 90° swaps a and b).
        """
        out = []
        for per_copy in self._copy_batches(inputs, rows, batch_size):
            total = None
            for p in per_copy:          # summed in the copies' order, then divided: the committed bytes
                total = p if total is None else total + p
            out.append((total / 8.0).cpu().numpy())
        return (np.concatenate(out) if out else np.zeros((0, self.config.n_outputs))).astype(np.float64)

    @torch.inference_mode()
    def copy_probabilities(self, inputs: Inputs, rows, batch_size: int = 64) -> np.ndarray:
        """Class probabilities of each of the image's eight symmetric copies, in ``DIHEDRAL_COPIES``'
        order: what the average of ``symmetric_probabilities`` is made of, copy by copy.

        Args:
            inputs: the prepared images.
            rows: the rows of ``inputs`` to classify.
            batch_size: images per forward pass.

        Returns:
            float64 [8, len(rows), n_classes].

        Raises:
            ValueError: the network is a regressor (a rotation by 90° swaps a and b).
        """
        out = [np.stack([p.cpu().numpy() for p in per_copy])
               for per_copy in self._copy_batches(inputs, rows, batch_size)]
        return (np.concatenate(out, axis=1) if out else np.zeros((8, 0, self.config.n_outputs))).astype(np.float64)

    def _copy_batches(self, inputs: Inputs, rows, batch_size: int):
        """Per batch of rows: the softmax of each of the eight copies (float32 tensors [batch, n_classes])."""
        if self.config.task != "classify":
            raise ValueError("the symmetric copies are for a classifier: a rotation by 90° swaps a and b")
        rows = np.asarray(rows, dtype=int)
        device = next(self.model.parameters()).device
        self.model.eval()
        fmt = torch.channels_last if self.config.channels_last else torch.contiguous_format
        for b in range(0, len(rows), batch_size):
            x = to_network_input(inputs.images[rows[b:b + batch_size]], self.config.channels_last).to(device)
            per_copy = []
            for copy in dihedral_copies(x):
                copy = copy.contiguous(memory_format=fmt)
                with autocast(device, self.config.precision):
                    per_copy.append(torch.softmax(self.model(copy).float(), dim=1))
            yield per_copy


# the eight copies ``dihedral_copies`` yields, in order: (rotation, degrees anticlockwise; mirrored
# in x after it). A lattice vector along x stays on x under the rotations by 0 and 180° and turns
# onto y under those by 90 and 270°, mirrored or not.
DIHEDRAL_COPIES = tuple((90 * k, mirrored) for k in range(4) for mirrored in (False, True))


def dihedral_copies(x: torch.Tensor):
    """The eight images of each [N, C, H, W] square image under the symmetries of the square:
    four rotations by 90°, each also mirrored.

    Args:
        x: batch of square images [N, C, H, W], H = W.

    Yields:
        Tensors [N, C, H, W]: rotations by 0, 90, 180 and 270°, each followed by its mirror in x.

    Raises:
        ValueError: the images are not square.
    """
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"symmetric copies need square images, got {tuple(x.shape[-2:])}")
    for k in range(4):
        r = torch.rot90(x, k, dims=(2, 3))
        yield r
        yield torch.flip(r, dims=(3,))


def _files(config: TrainConfig, ctx=None) -> FitFiles:
    """Where ``config`` is stored and what its files must match (``fitting``)."""
    return FitFiles(config.directory(), config.key(), config.as_dict(), TRAINING_VERSION,
                    rank=0 if ctx is None else ctx.rank, barrier=(lambda: None) if ctx is None else ctx.barrier)


def _load_state(path: Path) -> dict:
    """A weights file or checkpoint, read without running code from it (``storage.load_torch``)."""
    return storage.load_torch(path, required=("model",))


def load_trained(path: Path, config: TrainConfig, device: torch.device | None = None,
                 state: dict | None = None) -> TrainedModel:
    """Load final weights, refusing a file written for another configuration.

    Args:
        path: the ``final.pt`` to load.
        config: the configuration the file must have been written for.
        device: device to put the network on; None for ``default_device()``.
        state: the file's contents when the caller has already read them; None to read ``path``.

    Returns:
        The trained model in eval mode, with its target scaling and metadata.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ConfigMismatchError: the file was written for another configuration or code version.
        storage.StoredFileError: the file is unreadable, its weights do not fit, or a regressor's
            target scaling is missing or malformed.
    """
    path = Path(path)
    state = _load_state(path) if state is None else state
    _files(config).check(state, path)
    device = device or default_device()
    model = build_network(config.arch, config.n_outputs)
    load_weights_into(model, state, path)
    model.to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    mean, std = (None if state.get(k) is None else np.asarray(state[k], dtype=np.float64)
                 for k in ("target_mean", "target_std"))
    if config.task == "regress" and (mean is None or std is None
                                     or mean.shape != (config.n_outputs,) or std.shape != mean.shape):
        raise storage.StoredFileError(f"{paths.relative(path)}: the target scaling of a "
                                      f"{config.n_outputs}-output regressor is missing or malformed")
    return TrainedModel(config, model.eval(), list(state.get("history") or []), mean, std, path,
                        dict(state.get("meta") or {}))


def _random_flips(x: torch.Tensor, rng, batch, ctx) -> torch.Tensor:
    """Mirror each sample in x and/or y: a stays along x and a, b, gamma are unchanged.
    Drawn per global batch so every process count sees the same augmentation."""
    flips = rng.integers(0, 2, size=(len(batch), 2))[ctx.rank::ctx.world]
    x = x.clone()
    for k, (fx, fy) in enumerate(flips):
        dims = [2] * fx + [1] * fy          # sample k is [C, H, W]: W mirrors x, H mirrors y
        if dims:
            x[k] = torch.flip(x[k], dims=dims)
    return x


def _batch_loss(config: TrainConfig, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Summed (not averaged) loss of a local batch; the caller scales by the global size."""
    out = out.float()
    if config.task == "classify":
        return F.cross_entropy(out, y, reduction="sum")
    return ((out - y) ** 2).mean(dim=1).sum()   # MSE on standardised targets


def train(config: TrainConfig, inputs: Inputs, rows, targets, force: bool = False,
          log=print) -> TrainedModel:
    """Train (or load the cached result of) ``config`` on ``inputs.images[rows]``.

    The result is cached under ``config.directory()`` and reused; training resumes from the
    last completed epoch (see the module docstring).

    Args:
        config: the training configuration; its ``data_key`` must be ``data_key(inputs, rows,
            targets)``.
        inputs: the resized images (``Inputs``, or ``EpochInputs`` for fresh images per epoch).
        rows: the training rows of ``inputs``.
        targets: class labels [N] for classification, values [N, len(config.targets)] for
            regression (a, b in Å, gamma in degrees; standardised with the training mean and std,
            kept with the weights).
        force: train again even when a result or checkpoint is stored.
        log: callable that takes the progress lines.

    Returns:
        The trained model (the cached one when it exists).

    Raises:
        ConfigMismatchError: ``config.data_key`` does not describe these inputs, rows and targets,
            or a stored file is of another configuration.
        ValueError: the inputs' size differs from ``config.input_px``, there are no rows, class
            labels lie outside 0 to ``n_classes`` - 1, or the targets' columns differ from
            ``config.targets``.
    """
    rows = np.asarray(rows, dtype=int)
    targets = np.asarray(targets)
    if config.data_key != data_key(inputs, rows, targets):
        raise ConfigMismatchError("config.data_key does not describe these inputs, rows and "
                                  "targets; build the config with training.data_key(...)")
    if inputs.px != config.input_px:
        raise ValueError(f"inputs are {inputs.px} px, config asks for {config.input_px} px")
    if len(rows) == 0:
        raise ValueError("no training rows")
    ctx = _Dist.from_env()
    files = _files(config, ctx)
    # a damaged cache is rebuilt, never reused
    cached = cached_final(files, force, log, load=lambda s: load_trained(files.final, config, ctx.device, state=s))
    if cached is not None:
        return cached

    if config.task == "classify":
        y_all = torch.as_tensor(targets.astype(np.int64))
        if y_all.min() < 0 or y_all.max() >= config.n_classes:
            raise ValueError(f"class labels outside 0..{config.n_classes - 1}")
        t_mean = t_std = None
    else:
        t = targets.astype(np.float64).reshape(len(rows), -1)
        if t.shape[1] != len(config.targets):
            raise ValueError(f"targets have {t.shape[1]} columns, config names {config.targets}")
        t_mean, t_std = t.mean(axis=0), t.std(axis=0)
        t_std = np.where(t_std > 0, t_std, 1.0)
        y_all = torch.as_tensor((t - t_mean) / t_std, dtype=torch.float32)

    torch.manual_seed(config.seed)
    model = build_network(config.arch, config.n_outputs).to(ctx.device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n, bs = len(rows), config.batch_size
    steps = config.epochs * math.ceil(n / bs)
    sched = (torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
             if config.lr_schedule == "cosine" else None)
    scaler = torch.amp.GradScaler(ctx.device.type) if config.precision == "fp16" else None
    net = model
    if ctx.world > 1:
        # every process then loads the same checkpoint into the wrapped module (in place), so
        # the replicas stay equal when a run resumes
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def train_epoch(epoch: int) -> dict:
        net.train()
        t0 = time.perf_counter()
        order = np.random.default_rng([config.seed, epoch]).permutation(n)
        images = inputs.for_epoch(epoch).images if hasattr(inputs, "for_epoch") else inputs.images
        loss_sum, seen = 0.0, 0
        for b in range(0, n, bs):
            batch = order[b:b + bs]
            if len(batch) < ctx.world:      # a tail too small to give every process a sample
                continue
            local = batch[ctx.rank::ctx.world]
            x = to_network_input(images[rows[local]], config.channels_last).to(ctx.device)
            if config.augment == "flips":
                x = _random_flips(x, np.random.default_rng([config.seed, epoch, b]), batch, ctx)
            y = y_all[local].to(ctx.device)
            with autocast(ctx.device, config.precision):
                out = net(x)
            local_loss = _batch_loss(config, out, y)
            # DDP averages gradients over processes: scale so the result is the global mean
            loss = local_loss * ctx.world / len(batch)
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            if sched is not None:
                sched.step()
            loss_sum += float(local_loss.detach())
            seen += len(local)
        loss_sum, seen = ctx.sum(loss_sum, seen)
        seconds = time.perf_counter() - t0
        return {"epoch": epoch + 1, "loss": loss_sum / max(seen, 1),
                "seconds": round(seconds, 3), "images_per_s": round(seen / seconds, 2)}

    meta = {"device": ctx.device.type, "world_size": ctx.world, "torch": str(torch.__version__),
            "threads": torch.get_num_threads(), "n_train": int(n),
            "field_of_view_A": None if inputs.field_A is None else float(inputs.field_A)}
    history = run_epochs(
        files, model, opt, config.epochs, train_epoch, scheduler=sched, resume=not force, log=log,
        describe=lambda r: (f"{config.arch} {config.task} epoch {r['epoch']}/{config.epochs}: "
                            f"loss {r['loss']:.4f} ({r['images_per_s']:.0f} img/s)"),
        # lists, not numpy arrays: the file then holds plain types only
        final_content=lambda h: {"target_mean": None if t_mean is None else t_mean.tolist(),
                                 "target_std": None if t_std is None else t_std.tolist(), "meta": meta})
    model.eval()
    return TrainedModel(config, model, history, t_mean, t_std, files.final, meta)


def load_weights(path) -> TrainedModel:
    """Load a final.pt for inference, taking its configuration from the file itself.

    Every number that sizes an allocation or scales an answer is checked first
    (``check_model_numbers``), and weights holding NaN or infinite values are refused.

    Args:
        path: the weights file (``final.pt``).

    Returns:
        The trained model in eval mode, on ``default_device()``.

    Raises:
        FileNotFoundError: ``path`` does not exist (names the file).
        storage.StoredFileError: the file is not a usable weights file of this repository (names
            the file); both are ``OSError``.
    """
    path = Path(path)
    state = storage.load_torch(path, required=("config", "model"))
    try:
        if not isinstance(state["config"], dict):
            raise TypeError(f"config is a {type(state['config']).__name__}")
        config = TrainConfig(**state["config"])
        config.key()
        check_model_numbers(config, state)
    except (TypeError, ValueError) as exc:
        raise storage.StoredFileError(f"{paths.relative(path)}: its training configuration is "
                                      f"not one of this repository ({exc})") from None
    model = load_trained(path, config, state=state)
    bad = [name for name, p in model.model.state_dict().items()
           if p.is_floating_point() and not bool(torch.isfinite(p).all())]
    if bad:
        raise storage.StoredFileError(f"{paths.relative(path)}: {len(bad)} weight tensor(s) hold NaN or "
                                      f"infinite values ({', '.join(bad[:3])}): not a usable model")
    return model


# what a weights file may carry, for a file handed over by a user: every number that sizes an
# allocation or scales an answer is checked before it is used
INPUT_PX_RANGE = (8, 1024)            # network input side (the profiles use 32-224)
N_CLASSES_RANGE = (2, 64)
TARGET_RANGE = {"a": (0.5, 100.0), "b": (0.5, 100.0), "gamma": (1.0, 179.0)}   # Å, Å, degrees
# a reduced cell's angle lies in 90-120 degrees; its lengths in the same range as any cell's
TARGET_RANGE |= {"a_reduced": TARGET_RANGE["a"], "b_reduced": TARGET_RANGE["b"], "gamma_reduced": (89.99, 120.01)}


def check_model_numbers(config: TrainConfig, state: dict) -> None:
    """Check the numbers of a weights file against physical and practical ranges.

    Checked: the input size (``INPUT_PX_RANGE``, px), the class count (``N_CLASSES_RANGE``),
    the architecture, the field of view (its pixel size, Å per pixel, must be one
    ``real_images`` accepts), the targets and their scaling (finite, positive spread, target
    means inside ``TARGET_RANGE``: Å for a, b, degrees for gamma).

    Args:
        config: the configuration stored in the file.
        state: the file's contents (``meta``, ``target_mean``, ``target_std``).

    Raises:
        ValueError: saying which number is out of range.
    """
    def integer(name, value, lo, hi):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"{name} = {value!r}, expected an integer in {lo}-{hi}")

    integer("input_px", config.input_px, *INPUT_PX_RANGE)
    integer("n_classes", config.n_classes, *N_CLASSES_RANGE)
    if config.arch not in ARCHITECTURES:
        raise ValueError(f"arch = {config.arch!r}, expected one of {ARCHITECTURES}")
    meta = state.get("meta") or {}
    field = meta.get("field_of_view_A") if isinstance(meta, dict) else None
    if field is not None:
        if isinstance(field, bool) or not isinstance(field, (int, float)) or not np.isfinite(field) \
                or not PIXEL_SIZE_RANGE[0] <= field / config.input_px <= PIXEL_SIZE_RANGE[1]:
            raise ValueError(f"field_of_view_A = {field!r}: over {config.input_px} px that is not a pixel size "
                             f"in {PIXEL_SIZE_RANGE[0]}-{PIXEL_SIZE_RANGE[1]} Å")
    if config.task != "regress":
        return
    if not config.targets or not (set(config.targets) <= set(PARAMETERS)
                                  or set(config.targets) <= set(REDUCED_PARAMETERS)):
        raise ValueError(f"targets = {list(config.targets)}, expected some of {list(PARAMETERS)} "
                         f"or some of {list(REDUCED_PARAMETERS)}")
    for key in ("target_mean", "target_std"):
        try:
            v = np.asarray(state.get(key), dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{key} is not a list of numbers") from None
        if v.shape != (len(config.targets),) or not np.isfinite(v).all():
            raise ValueError(f"{key} = {state.get(key)!r}: expected {len(config.targets)} finite numbers")
    for t, mean, sd in zip(config.targets, state["target_mean"], state["target_std"]):
        lo, hi = TARGET_RANGE[t]
        if not lo <= mean <= hi or not 0 < sd <= hi - lo:
            raise ValueError(f"the scaling of {t} (mean {mean:.4g}, sd {sd:.4g}) is outside {lo}-{hi}")


# ------------------------------------------------------------------ named models

REGISTRY = "registry.json"   # in paths.MODELS: name -> model directory, written by the studies


def register_model(name: str, model_dir: Path) -> None:
    """Record ``model_dir`` under ``name`` (e.g. ``quick/c2db/densenet121-regress-a-b-gamma``)
    so that commands can find "the C2DB-slot regressor" without knowing its configuration key.

    The registry (``data/models/registry.json``) is updated under a lock; a malformed one is
    moved aside and started afresh.

    Args:
        name: the name to register.
        model_dir: the model's folder, inside ``data/models/``.

    Raises:
        ValueError: ``model_dir`` is not inside ``data/models/``.
    """
    path = paths.MODELS / REGISTRY
    rel = Path(model_dir).resolve().relative_to(paths.MODELS.resolve()).as_posix()
    # studies run side by side register at once: without the lock, one's read-modify-write
    # drops the entries another wrote between its read and its write
    with storage.locked(path):
        try:
            reg = _read_registry(path)
        except storage.StoredFileError as exc:   # derived data: start afresh, keep the old one aside
            print(f"WARNING: {exc}; moved aside to {paths.relative(storage.quarantine(path))}")
            reg = {}
        if reg.get(name) != rel:
            reg[name] = rel
            storage.write_json(path, dict(sorted(reg.items())))


def _read_registry(path: Path) -> dict:
    if not path.exists():
        return {}
    reg = storage.read_json_object(path, "model registry")
    bad = [k for k, v in reg.items() if not isinstance(v, str) or Path(v).is_absolute() or ".." in Path(v).parts]
    if bad:
        raise storage.StoredFileError(f"{paths.relative(path)}: entry {bad[0]!r} is not a model "
                                      "directory relative to data/models")
    return reg


def registered_models() -> dict[str, Path]:
    """The registered models whose final.pt exists.

    Returns:
        Registered name -> model directory.

    Raises:
        storage.StoredFileError: the registry is malformed (names it).
    """
    path = paths.MODELS / REGISTRY
    reg = _read_registry(path)
    return {k: paths.MODELS / v for k, v in reg.items() if (paths.MODELS / v / "final.pt").exists()}
