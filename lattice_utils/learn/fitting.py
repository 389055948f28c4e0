"""One cached, resumable fitting loop for every network of the repository (the image networks of
``training``, the XRD CNN of ``xrd.model``, the ResUNets of ``related.unet``).

A fit lives in one directory, named by the content key of its configuration: ``final.pt`` (the
result, reused by later runs), ``checkpoint.pt`` (written atomically after every epoch, so that
an interrupted fit resumes to the same weights) and ``history.json``. Every file records the key
and the configuration; a file of another configuration is refused with the fields that differ,
a damaged one is moved aside and the fit starts over. Files are read with
``storage.load_torch`` (``weights_only=True``): nothing in them runs.

The trainer supplies what differs between networks: the model, its optimiser (and scheduler),
and one epoch of training (``train_epoch(epoch) -> record``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from ..core import paths, storage

__all__ = ["PRECISIONS", "resolve_precision", "default_device", "autocast", "ConfigMismatchError", "FitFiles",
           "cached_final", "run_epochs", "load_weights_into"]

CHECKPOINT_KEYS = ("optimizer", "scheduler", "torch_rng", "history", "epoch")
PRECISIONS = ("fp32", "bf16", "fp16")


def resolve_precision(precision: str = "auto", device: torch.device | None = None) -> str:
    """The numeric precision of a fit: ``auto`` resolved for the device, anything else checked.

    ``auto``: bf16 autocast where the hardware does bf16 natively, else fp32 (CPU), and bf16
    or fp16 AMP on GPU.

    Args:
        precision: ``auto`` or one of ``PRECISIONS``.
        device: the device to decide for; None for ``default_device()``.

    Returns:
        One of ``PRECISIONS``.

    Raises:
        ValueError: ``precision`` is neither ``auto`` nor one of ``PRECISIONS``.
    """
    if precision != "auto":
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be auto or one of {PRECISIONS}, not {precision!r}")
        return precision
    device = device or default_device()
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return "bf16" if native else "fp32"


def default_device() -> torch.device:
    """The device this process trains on.

    Returns:
        CUDA device ``LOCAL_RANK`` (0 outside torchrun) when CUDA is available, else the CPU.
    """
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def autocast(device: torch.device, precision: str):
    """Mixed precision where ``precision`` asks for it (``resolve_precision`` gives it).

    Args:
        device: the device the forward pass runs on.
        precision: one of ``PRECISIONS``; ``fp32`` disables autocast.

    Returns:
        A ``torch.autocast`` context manager (bf16 or fp16, or disabled).
    """
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


class ConfigMismatchError(ValueError):
    """A stored fit that was written for another configuration (or training code version)."""


@dataclass
class FitFiles:
    """Where a fit is stored and what its files must match.

    Attributes:
        directory: the fit's folder (``final.pt``, ``checkpoint.pt``, ``history.json``).
        key: content key of the configuration.
        config: its fields, for the message when they differ.
        version: version of the training code.
        rank: this process's rank; only rank 0 writes (DDP).
        barrier: callable that waits for every process (a no-op in one process).
    """
    directory: Path
    key: str
    config: dict
    version: int
    rank: int = 0                                         # only rank 0 writes (DDP)
    barrier: Callable[[], None] = field(default=lambda: None)

    @property
    def final(self) -> Path:
        """The final result, ``<directory>/final.pt``."""
        return self.directory / "final.pt"

    @property
    def checkpoint(self) -> Path:
        """The per-epoch checkpoint, ``<directory>/checkpoint.pt``."""
        return self.directory / "checkpoint.pt"

    def check(self, state: dict, path: Path) -> None:
        """Refuse a file written for another configuration or code version, naming the fields."""
        if state.get("key") == self.key and state.get("version") == self.version:
            return
        stored = state.get("config") if isinstance(state.get("config"), dict) else {}
        diff = [f"{k}: file has {stored.get(k)!r}, asked for {self.config.get(k)!r}"
                for k in sorted(set(stored) | set(self.config)) if stored.get(k) != self.config.get(k)]
        if state.get("version") != self.version:
            diff.append(f"training code version: file has {state.get('version')}, this code is {self.version}")
        raise ConfigMismatchError(
            f"{paths.relative(path)} was written for another training configuration "
            f"({'; '.join(diff) or 'different key'}); refusing to load it. Delete the file or "
            "rerun with force=True to train this configuration.")

    def stamp(self, **content) -> dict:
        """``content`` with the key, code version and configuration that ``check`` compares."""
        return {"key": self.key, "version": self.version, "config": self.config, **content}

    def _moved_aside(self, path: Path, exc: Exception, log, then: str) -> None:
        if self.rank == 0:
            log(f"WARNING: {exc}; moved aside to {paths.relative(storage.quarantine(path))}, {then}")
        self.barrier()


def cached_final(files: FitFiles, force: bool = False, log=print, load: Callable[[dict], object] = dict):
    """The stored result of this fit, as ``load(state)`` makes it from the file's contents.

    A damaged file (unreadable, or refused by ``load`` with ``storage.StoredFileError``:
    weights that do not fit) is moved aside so that the fit runs again.

    Args:
        files: the fit's files and what they must match.
        force: ignore a stored result (the fit runs again).
        log: callable that takes the warning when a file is moved aside.
        load: makes the result from the file's contents (a dict).

    Returns:
        ``load(state)``, or None when there is no result, ``force`` is set, or the file is damaged.

    Raises:
        ConfigMismatchError: the stored result is of another configuration or code version.
    """
    if force or not files.final.exists():
        return None
    try:
        state = storage.load_torch(files.final, required=("model",))
        files.check(state, files.final)
        return load(state)
    except storage.StoredFileError as exc:
        files._moved_aside(files.final, exc, log, "training again")
        return None


def run_epochs(files: FitFiles, model: torch.nn.Module, optimizer, epochs: int,
               train_epoch: Callable[[int], dict], scheduler=None, resume: bool = True,
               checkpoints: bool = True, describe: Callable[[dict], str] = str, log=print,
               final_content: Callable[[list], dict] | None = None) -> list:
    """Train ``model`` for ``epochs`` (resuming from the checkpoint unless ``resume`` is off),
    then store the result.

    After every epoch rank 0 writes the checkpoint (model, optimiser, scheduler, torch RNG
    state, history) atomically; at the end it writes ``final.pt`` and ``history.json`` and
    removes the checkpoint. A damaged checkpoint is moved aside and training starts over.

    Args:
        files: the fit's files and what they must match.
        model: the network; resumed weights are loaded into it in place.
        optimizer: its optimiser (state saved and resumed).
        epochs: total number of epochs of the fit.
        train_epoch: ``train_epoch(epoch)`` trains one epoch (0-based) and returns its history record.
        scheduler: learning-rate scheduler (state saved and resumed), or None.
        resume: continue from a checkpoint of this configuration when there is one.
        checkpoints: write a checkpoint after every epoch (and resume from one).
        describe: ``describe(record)`` is the log line's text for an epoch.
        log: callable that takes the log lines.
        final_content: ``final_content(history)`` adds to the final file (e.g. the target
            scaling; its ``meta`` also goes into ``history.json``), or None.

    Returns:
        The history: one record per epoch, resumed epochs included.

    Raises:
        ConfigMismatchError: the checkpoint is of another configuration or code version.
        storage.StoredFileError: the checkpoint's weights do not fit ``model``.
    """
    history, start = [], 0
    if resume and checkpoints and files.checkpoint.exists():
        state = _read_checkpoint(files, log)
        if state is not None:
            load_weights_into(model, state, files.checkpoint)
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(state["scheduler"])
            torch.set_rng_state(state["torch_rng"])
            history, start = list(state["history"]), int(state["epoch"])
            if files.rank == 0:
                log(f"resuming {paths.relative(files.checkpoint)} after epoch {start}")
    for epoch in range(start, epochs):
        history.append(train_epoch(epoch))
        if files.rank == 0:
            if checkpoints:
                storage.save_torch(files.checkpoint, files.stamp(
                    epoch=epoch + 1, model=model.state_dict(), optimizer=optimizer.state_dict(),
                    scheduler=scheduler.state_dict() if scheduler is not None else None,
                    torch_rng=torch.get_rng_state(), history=history))
            log(describe(history[-1]))
        files.barrier()
    if files.rank == 0:
        extra = final_content(history) if final_content is not None else {}
        storage.save_torch(files.final, files.stamp(model=model.state_dict(), history=history, **extra))
        storage.write_json(files.directory / "history.json",
                           {"config": files.config, "history": history,
                            **({"meta": extra["meta"]} if "meta" in extra else {})})
        files.checkpoint.unlink(missing_ok=True)
    files.barrier()
    return history


def _read_checkpoint(files: FitFiles, log) -> dict | None:
    """The checkpoint to resume from, or None (with a warning) when it is damaged: it is then
    moved aside and training starts over. A checkpoint of another configuration is refused."""
    try:
        state = storage.load_torch(files.checkpoint, required=("model",))
        files.check(state, files.checkpoint)
        missing = [k for k in CHECKPOINT_KEYS if k not in state]
        if missing:
            raise storage.StoredFileError(f"{paths.relative(files.checkpoint)} is not a checkpoint "
                                          f"(no {', '.join(missing)})")
    except storage.StoredFileError as exc:
        files._moved_aside(files.checkpoint, exc, log, "starting from epoch 0")
        return None
    return state


def load_weights_into(model: torch.nn.Module, state: dict, path: Path) -> None:
    """``load_state_dict`` with a message that names the file when the weights do not fit.

    Args:
        model: the network to load into (in place).
        state: a weights file's contents; its ``model`` entry holds the weights.
        path: the file the state comes from, for the message.

    Raises:
        storage.StoredFileError: ``model`` is not a dict of tensors, or the weights do not fit
            the network.
    """
    weights = state.get("model")
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise storage.StoredFileError(f"{paths.relative(path)}: 'model' is not a dict of tensors")
    try:
        model.load_state_dict(weights)
    except (RuntimeError, ValueError, TypeError) as exc:
        detail = " ".join(str(exc).split())[:240]
        raise storage.StoredFileError(f"{paths.relative(path)}: the weights do not fit the "
                                      f"network it names ({detail})") from None

