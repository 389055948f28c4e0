"""The model studies of notebooks 02-07 as small functions: load a dataset slot, train (or
reuse) a network or a frozen-feature MLP with the profile's settings, predict the test split.

Every trained result is cached under ``data/`` by its full configuration, so a notebook that
asks for a model another notebook already trained gets it back without training.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import torch

from ..core import paths, storage
from ..core.profiles import Profile
from ..data import datasets, image_sets, sources
from ..learn import fitting, metrics, training
from ..lattice.lattice2d import reduced_parameters
from ..learn.metrics import PARAMETERS, REDUCED_PARAMETERS
from ..learn.models import BACKBONES, load_backbone
from ..simulate.stem import StemParams

__all__ = ["SlotData", "load_slot", "classification_slot", "regression_slot", "common_source", "target_values",
           "network_setup", "network_trained", "fit_network", "predict_test", "history_frame", "backbone_features",
           "backbone_title", "model_title", "MLPResult", "standardised_features", "fit_mlp", "NETWORKS",
           "ClassificationStudy", "classification_study"]

MLP_VERSION = 2


@dataclass
class SlotData:
    """One dataset slot: structure table with its split, images, and resized inputs.

    Attributes:
        slot: the dataset slot (``jv2d``, ``c2db``, ``alex``).
        profile: the profile whose settings built it and train on it.
        source: where the data came from (``offline``, ``jarvis``, a paper image set such as
            ``stem_jv2d``, or ``stem_jv2d+jarvis`` for images joined to the database).
        table: one row per record: ``id``, ``label`` (Bravais class 0-4), ``split`` and, where
            known, ``a``, ``b`` (Å), ``gamma`` (degrees) and the structure columns.
        store: the images, one uint8 [px, px] image per table row (``datasets.ImageStore``; the
            profile's ``image_px`` for simulated images, at ``px_scale`` Å per pixel).
    """
    slot: str
    profile: Profile
    source: str
    table: pd.DataFrame
    store: datasets.ImageStore
    _inputs: dict = field(default_factory=dict, repr=False)

    def rows(self, split: str) -> np.ndarray:
        """Row positions of a split, without records whose image failed to simulate.

        Args:
            split: ``train`` or ``test`` (any value of the table's ``split`` column).

        Returns:
            int array of row positions in ``table``.
        """
        failed = {rid for rid, _ in self.store.failed}
        keep = (self.table["split"] == split) & ~self.table["id"].isin(failed)
        return np.flatnonzero(keep.to_numpy())

    @cached_property
    def train(self) -> pd.DataFrame:
        """The training records (``rows("train")``), re-indexed from 0."""
        return self.table.iloc[self.rows("train")].reset_index(drop=True)

    @cached_property
    def test(self) -> pd.DataFrame:
        """The test records (``rows("test")``), re-indexed from 0."""
        return self.table.iloc[self.rows("test")].reset_index(drop=True)

    def inputs(self, px: int) -> training.Inputs:
        """Every image of the slot resized for a network (built once, memory-mapped, kept).

        Args:
            px: the network's input size (px per side).

        Returns:
            ``training.Inputs``: uint8 [N, px, px], row ``i`` the image of ``table`` row ``i``.
        """
        if px not in self._inputs:
            self._inputs[px] = training.prepare_inputs(self.store, px)
        return self._inputs[px]


def load_slot(slot: str, profile: Profile, source: str = "offline", force: bool = False,
              verbose: bool = False) -> SlotData:
    """Structures and simulated STEM images of a slot (built by notebook 01; rebuilt here if missing).

    Args:
        slot: the dataset slot (``jv2d``, ``c2db``, ``alex``).
        profile: the profile: corpus size, split, image size (px) and scale (Å per pixel).
        source: ``offline`` or ``jarvis``, or a ``data_source`` request (``auto``, ``paper``)
            resolved by ``sources.structure_source``; or the name of one of the paper's image sets
            (``stem_jv2d``, ``stem_c2db``), whose images and split are used as they are.
        force: rebuild the corpus and the images even when cached.
        verbose: print progress.

    Returns:
        The slot's ``SlotData``.
    """
    if source in image_sets.IMAGE_SETS:
        return _image_set_slot(source, profile, force, verbose)
    if source not in ("offline", "jarvis"):
        source = sources.structure_source(slot, source)
    table = datasets.with_split(datasets.load_corpus(slot, profile, source, force=force,
                                                     verbose=verbose), profile)
    params = StemParams(image_px=profile.image_px, px_scale=profile.px_scale)
    store = datasets.build_image_store(slot, table, params, profile.chunk_size,
                                       workers=profile.workers, force=force, verbose=verbose)
    return SlotData(slot, profile, source, table, store)


def classification_slot(slot: str, profile: Profile, data_source: str = "auto", force: bool = False,
                        verbose: bool = False) -> SlotData:
    """The data of a Bravais classification study.

    The paper's own STEM image set of the slot when ``data_source`` allows it and its file is
    present, else images simulated from the slot's structure table (``sources``).

    Args:
        slot: the dataset slot (``jv2d``, ``c2db``, ``alex``).
        profile: the profile (see ``load_slot``).
        data_source: ``auto``, ``paper`` or ``offline`` (``sources.CHOICES``).
        force: rebuild cached data.
        verbose: print progress.

    Returns:
        The slot's ``SlotData``.
    """
    name = sources.image_set_for(slot, data_source)
    return load_slot(slot, profile, name or sources.structure_source(slot, data_source), force, verbose)


def regression_slot(slot: str, profile: Profile, data_source: str = "auto", force: bool = False,
                    verbose: bool = False, log=print) -> SlotData:
    """The data of a lattice regression study. The paper's own STEM images of the slot carry
    only their class; their a, b, gamma are the DFT values of the same JARVIS ids in the slot's
    structure database. When both files are present (and ``data_source`` allows them), the
    images are joined to the database by id (``join_structures``); otherwise this is
    ``load_slot`` with the resolved structure source.

    Args:
        slot: the dataset slot (``jv2d``, ``c2db``, ``alex``).
        profile: the profile (see ``load_slot``).
        data_source: ``auto``, ``paper`` or ``offline`` (``sources.CHOICES``).
        force: rebuild cached data.
        verbose: print progress.
        log: callable that prints a line (why the paper's images are not used, or how many were
            left out for want of a database record).

    Returns:
        The slot's ``SlotData``, with a, b (Å) and gamma (degrees) for every record it trains on.
    """
    name = sources.image_set_for(slot, data_source, log=log)
    structure = sources.structure_source(slot, data_source, log=log)
    if name is None or structure != "jarvis":
        if name is not None:
            log(f"{slot}: the regression needs the DFT a, b, gamma of the {name} images, which only the "
                f"paper's {slot} database holds; using images simulated from {structure} structures")
        return load_slot(slot, profile, structure, force, verbose)
    images = _image_set_slot(name, profile, force, verbose)
    table = datasets.load_corpus(slot, profile, "jarvis", force=force, verbose=verbose)
    joined = join_structures(images.table, table)
    n_missing = int((joined["split"] == "no structure").sum())
    if n_missing > len(joined) / 2:      # ids of another kind: this is no join
        log(f"{slot}: only {len(joined) - n_missing} of {len(joined)} {name} image ids are records of the "
            f"{slot} database; using images simulated from its structures instead")
        return load_slot(slot, profile, "jarvis", force, verbose)
    if n_missing:
        log(f"{slot}: {n_missing} of {len(joined)} {name} images have no record in the database; left out")
    return SlotData(slot, profile, f"{name}+jarvis", joined, images.store)


def join_structures(images: pd.DataFrame, structures: pd.DataFrame) -> pd.DataFrame:
    """The image table (id, label, split, member) with the structure columns of the same id
    added (a, b, gamma, atoms, formula, ...). The image's own class folder stays its label (the
    database's label of the record is kept as ``db_label``); an image whose id has no record
    gets the split ``no structure`` and drops out of every study."""
    cols = [c for c in structures.columns if c not in ("id", "split")]
    right = structures.drop_duplicates("id").rename(columns={"label": "db_label"})
    out = images.merge(right[["id"] + [c if c != "label" else "db_label" for c in cols]], on="id", how="left")
    out.loc[out["a"].isna(), "split"] = "no structure"
    return out.reset_index(drop=True)


def _image_set_slot(name: str, profile: Profile, force: bool, verbose: bool) -> SlotData:
    loaded = image_sets.load_image_set(name, workers=profile.workers, chunk_size=profile.chunk_size,
                                       force=force, verbose=verbose)
    return SlotData(loaded.info.slot, profile, name, loaded.table, loaded.store)


def common_source(slots: dict) -> str:
    """The data source of several slots: one name, or ``a+b`` when they differ.

    Args:
        slots: name -> ``SlotData``.

    Returns:
        The distinct ``SlotData.source`` values, sorted and joined by "+".
    """
    names = sorted({sd.source for sd in slots.values()})
    return "+".join(names)


# ------------------------------------------------------------------ networks

def target_values(table: pd.DataFrame, targets) -> np.ndarray:
    """A regressor's targets from a structure table: columns of ``PARAMETERS`` as the database stored
    them, or of ``REDUCED_PARAMETERS``, the same lattice's Gauss-reduced cell.

    Args:
        table: the structure table (``a``, ``b`` in Å, ``gamma`` in degrees).
        targets: names from ``PARAMETERS`` or ``REDUCED_PARAMETERS`` (not mixed).

    Returns:
        float [len(table), len(targets)].

    Raises:
        ValueError: an unknown target name, or names of both conventions.
    """
    targets = tuple(targets)
    if set(targets) <= set(PARAMETERS):
        return table[list(targets)].to_numpy(float)
    if not set(targets) <= set(REDUCED_PARAMETERS):
        raise ValueError(f"targets must all be of {PARAMETERS} or all of {REDUCED_PARAMETERS}, not {targets}")
    reduced = dict(zip(REDUCED_PARAMETERS, reduced_parameters(*(table[c].to_numpy(float) for c in PARAMETERS))))
    return np.stack([reduced[t] for t in targets], axis=1)


def network_setup(sd: SlotData, task: str, arch: str, targets=PARAMETERS,
                  lr: float | None = None):
    """The TrainConfig the profile prescribes, with the training rows and targets.

    Args:
        sd: the slot's data.
        task: ``classify`` (Bravais class) or ``regress`` (lattice parameters).
        arch: the network: ``densenet121`` or ``googlenet`` (``googlenet`` gets the profile's
            weight decay).
        targets: regression targets, a subset of ("a", "b", "gamma") or of their reduced-cell names
            (``REDUCED_PARAMETERS``, ``target_values``); ignored for ``classify``.
        lr: learning rate; None takes the profile's ``lr_classify`` or ``lr_regress``.

    Returns:
        (config, inputs, rows, y): the ``training.TrainConfig`` (its key identifies the
        training), the slot's images resized to the profile's ``input_px``
        (``training.Inputs``), the training row positions and their targets: classes [n_train]
        for ``classify``, float [n_train, n_targets] for ``regress`` (a, b in Å, gamma in degrees).
    """
    P = sd.profile
    rows = sd.rows("train")
    targets = ("label",) if task == "classify" else tuple(targets)
    y = (sd.table["label"].to_numpy()[rows] if task == "classify"
         else target_values(sd.table, targets)[rows])
    inputs = sd.inputs(P.input_px)
    if lr is None:
        lr = P.lr_classify if task == "classify" else P.lr_regress
    cfg = training.TrainConfig(
        task=task, arch=arch, targets=targets, data_key=training.data_key(inputs, rows, y),
        input_px=P.input_px, epochs=P.epochs[sd.slot], batch_size=P.batch_size, lr=lr,
        weight_decay=P.googlenet_weight_decay if arch == "googlenet" else 0.0,
        lr_schedule=P.lr_schedule, seed=P.seed, precision=fitting.resolve_precision(P.precision))
    return cfg, inputs, rows, y


def network_trained(sd: SlotData, task: str, arch: str, targets=PARAMETERS, lr: float | None = None) -> bool:
    """Whether ``fit_network`` would find a finished training of this network in the cache.

    Args:
        sd: the slot's data.
        task: ``classify`` or ``regress``.
        arch: ``densenet121`` or ``googlenet``.
        targets: regression targets (see ``network_setup``).
        lr: learning rate; None: the profile's.

    Returns:
        True when the configuration's ``final.pt`` exists.
    """
    cfg = network_setup(sd, task, arch, targets, lr)[0]
    return (cfg.directory() / "final.pt").exists()


def fit_network(sd: SlotData, task: str, arch: str = "densenet121", targets=PARAMETERS,
                lr: float | None = None, force: bool = False, log=print) -> training.TrainedModel:
    """Train a network with the profile's settings, or reuse the cached training of the same configuration.

    A training without augmentation (``network_setup`` sets none) is registered under
    ``<profile>/<source>/<slot>/<arch>-<task>-<targets>``; the log says whether it was trained
    (with the seconds it took) or reused.

    Args:
        sd: the slot's data.
        task: ``classify`` (Bravais class) or ``regress`` (lattice parameters).
        arch: ``densenet121`` or ``googlenet``.
        targets: regression targets (see ``network_setup``); ignored for ``classify``.
        lr: learning rate; None: the profile's.
        force: train again even when a finished training is cached.
        log: callable that prints a line.

    Returns:
        The ``training.TrainedModel``.
    """
    cfg, inputs, rows, y = network_setup(sd, task, arch, targets, lr)
    cached = not force and (cfg.directory() / "final.pt").exists()
    t0 = time.perf_counter()
    model = training.train(cfg, inputs, rows, y, force=force, log=log)
    what = "reused cached" if cached else f"trained in {time.perf_counter() - t0:.0f} s:"
    if cfg.augment == "none":
        training.register_model(f"{sd.profile.name}/{sd.source}/{sd.slot}/{arch}-{task}-"
                                f"{'-'.join(cfg.targets)}", model.path.parent)
    log(f"{sd.slot} {arch} {task} {'/'.join(cfg.targets)}: {what} "
        f"{paths.relative(model.path)}")
    return model


def predict_test(sd: SlotData, model: training.TrainedModel) -> np.ndarray:
    """A trained network's predictions on the slot's test split.

    Args:
        sd: the slot's data.
        model: a network trained by ``fit_network``.

    Returns:
        Regression: float [n_test, n_targets] in the targets' units (a, b in Å, gamma in
        degrees); classification: the predicted classes, int [n_test].
    """
    inputs = sd.inputs(model.config.input_px)
    rows = sd.rows("test")
    return model.predict_classes(inputs, rows) if model.config.task == "classify" \
        else model.predict(inputs, rows)


def history_frame(models: dict) -> pd.DataFrame:
    """Per-epoch training loss of several models, keyed by a label (Figure S3).

    Args:
        models: label -> ``training.TrainedModel``.

    Returns:
        One row per model and epoch: ``model`` (the label) and the training's record of that epoch
        (``epoch``, ``loss``, ``seconds``, ``images_per_s``).
    """
    return pd.DataFrame([{"model": k, **h} for k, m in models.items() for h in m.history])


# ------------------------------------------------------------------ frozen features + MLP

def backbone_features(sd: SlotData, backbone: str | None = None, batch_size: int = 64,
                      log=print) -> np.ndarray:
    """Features of every image of the slot from a frozen pretrained backbone (cached under ``paths.FEATURES``).

    Args:
        sd: the slot's data.
        backbone: a ``models.BACKBONES`` name (``efficientnet_lite0``, ``clip_vit_l14``); None:
            the profile's.
        batch_size: images per forward pass.
        log: callable that prints a line.

    Returns:
        float32 [N, D], row ``i`` the image of ``sd.table`` row ``i``; D is the backbone's width
        (``models.BACKBONES``).
    """
    P = sd.profile
    backbone = backbone or P.backbone
    precision = fitting.resolve_precision(P.precision)
    path = paths.FEATURES / f"{sd.store.root.name}-{backbone}-px{P.feature_px}-{precision}.npy"
    cached = storage.load_npy_checked(path, (BACKBONES[backbone][1],), np.float32)
    if cached is not None and len(cached) == len(sd.store):
        return np.asarray(cached)
    bb = load_backbone(backbone)
    device = fitting.default_device()
    module = bb.module.to(device).to(memory_format=torch.channels_last)
    inputs = sd.inputs(P.feature_px)
    out = []
    t0 = time.perf_counter()
    with torch.inference_mode():
        for b in range(0, len(inputs), batch_size):
            x = training.to_network_input(inputs.images[b:b + batch_size], True, bb.mean, bb.std)
            with fitting.autocast(device, precision):
                out.append(module(x.to(device)).float().cpu().numpy())
    feats = np.concatenate(out).astype(np.float32)
    storage.save_npy(path, feats)
    log(f"{sd.slot}: {bb.title.split(' +')[0]} features of {len(feats)} images "
        f"in {time.perf_counter() - t0:.0f} s")
    return feats


def backbone_title(backbone: str) -> str:
    """How the tables name a frozen backbone with its MLP ("EfficientNet-Lite0 (ImageNet) + MLP").

    Args:
        backbone: a ``models.BACKBONES`` name.

    Returns:
        The backbone's title.
    """
    return BACKBONES[backbone][0]


NETWORK_TITLES = {"densenet121": "DenseNet121 (from scratch)", "googlenet": "GoogLeNet (from scratch)"}


def model_title(model: str, backbone: str) -> str:
    """How Table S1 names a classifier: a network trained from scratch, or "mlp" on frozen features.

    Args:
        model: ``densenet121``, ``googlenet`` or ``mlp``.
        backbone: the ``models.BACKBONES`` name whose features the MLP reads (used for ``mlp`` only).

    Returns:
        The title, e.g. "DenseNet121 (from scratch)".
    """
    return backbone_title(backbone) if model == "mlp" else NETWORK_TITLES[model]


@dataclass
class MLPResult:
    """What ``fit_mlp`` gives: an MLP on frozen backbone features, scored on the test split.

    Attributes:
        task: ``classify`` or ``regress``.
        backbone: the ``models.BACKBONES`` name of the features.
        predictions: test split: classes [n_test], or float [n_test, n_targets] in the targets'
            units (a, b in Å, gamma in degrees).
        loss_curve: the training loss per epoch (scikit-learn's ``loss_curve_``).
        settings: what identifies the fit (task, backbone, hidden sizes, epochs, seed, targets,
            feature and row keys, version).
    """
    task: str
    backbone: str
    predictions: np.ndarray      # test split: classes, or [n_test, 3] values
    loss_curve: list
    settings: dict


def standardised_features(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features standardised with the training mean and std; test features held to the range
    the training features span. A frozen backbone leaves many features near zero on almost every
    image: one that fires on a test image but on one or no training image standardises to tens of
    standard deviations, and a regressor extrapolates to any value (one quick Alex-PBE test image
    was predicted at a = 1,822 Å).

    Args:
        train: training features, [n_train, D].
        test: test features, [n_test, D].

    Returns:
        (train, test) standardised, the test features clipped to the range of the standardised
        training features, each feature.
    """
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    x_tr, x_te = scaler.transform(train), scaler.transform(test)
    return x_tr, np.clip(x_te, x_tr.min(axis=0), x_tr.max(axis=0))


def fit_mlp(sd: SlotData, task: str, backbone: str | None = None, targets=PARAMETERS,
            force: bool = False, log=print) -> MLPResult:
    """The paper's MLP on frozen features: hidden (512, 256) and 400 epochs, (256, 128) and
    200 epochs for the smallest dataset; Adam, cross-entropy (classification) or squared
    error on standardised targets (regression). Features are standardised first
    (``standardised_features``); a finished fit is cached under ``paths.MODELS``.

    Args:
        sd: the slot's data.
        task: ``classify`` or ``regress``.
        backbone: a ``models.BACKBONES`` name; None: the profile's.
        targets: regression targets (see ``network_setup``); ignored for ``classify``.
        force: fit again even when a result is cached.
        log: callable that prints a line.

    Returns:
        The ``MLPResult``; regression predictions in the targets' units (a, b in Å, gamma in degrees).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    P = sd.profile
    backbone = backbone or P.backbone
    feats = backbone_features(sd, backbone, log=log)
    tr, te = sd.rows("train"), sd.rows("test")
    targets = ("label",) if task == "classify" else tuple(targets)
    y = (sd.table[["label"]].to_numpy() if task == "classify" else target_values(sd.table, targets))[tr]
    settings = {"task": task, "backbone": backbone, "hidden": list(P.mlp_hidden[sd.slot]),
                "epochs": P.mlp_epochs[sd.slot], "seed": P.seed, "targets": list(targets),
                "features": storage.array_key(feats),    # every feature: the fit depends on all of them
                "rows": storage.content_key(tr.tolist(), te.tolist()), "version": MLP_VERSION}
    key = storage.content_key(settings, np.round(y.astype(float), 6).tolist())
    path = paths.MODELS / f"mlp-{backbone}-{task}-{key}.json"
    if path.exists() and not force:
        try:
            saved = storage.read_json_object(path, "MLP result")
            return MLPResult(task, backbone, np.asarray(saved["predictions"]), saved["loss_curve"], settings)
        except (OSError, KeyError) as exc:     # a damaged cache is recomputed
            log(f"{exc}; recomputing it")
    x_tr, x_te = standardised_features(feats[tr], feats[te])
    kw = dict(hidden_layer_sizes=tuple(P.mlp_hidden[sd.slot]), max_iter=P.mlp_epochs[sd.slot],
              solver="adam", random_state=P.seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task == "classify":
            mlp = MLPClassifier(**kw).fit(x_tr, y[:, 0].astype(int))
            pred = mlp.predict(x_te)
        else:
            mean, std = y.mean(axis=0), y.std(axis=0)
            std = np.where(std > 0, std, 1.0)
            mlp = MLPRegressor(**kw).fit(x_tr, (y - mean) / std)
            pred = mlp.predict(x_te).reshape(len(te), -1) * std + mean
    log(f"{sd.slot} MLP {task} on {backbone}: {mlp.n_iter_} epochs in {time.perf_counter() - t0:.0f} s")
    storage.write_json(path, {"settings": settings, "predictions": pred.tolist(),
                              "loss_curve": [float(v) for v in mlp.loss_curve_]})
    return MLPResult(task, backbone, np.asarray(pred), list(mlp.loss_curve_), settings)


# Every network notebooks 02-07 train: (notebook, slot, task, arch, targets). Used by the
# command-line trainer (to fill the cache on a GPU machine before running the notebooks).
NETWORKS = (
    [("02", s, "classify", a, ("label",)) for s in ("jv2d", "c2db") for a in ("densenet121", "googlenet")]
    + [("03", "jv2d", "regress", "densenet121", t) for t in (("a", "b", "gamma"), ("a",), ("b",), ("gamma",))]
    + [("04", s, "regress", "densenet121", ("a", "b", "gamma")) for s in ("c2db", "alex")]
    + [("05", "alex", "classify", "densenet121", ("label",))]
    + [("06", "alex", "regress", "googlenet", ("a", "b", "gamma"))]
)


# ------------------------------------------------------------------ the classification study of Tables S1 and 2

@dataclass
class ClassificationStudy:
    """One classifier on one slot's test images: Table S1's row (accuracy, F1), Table 2's rows
    (precision, recall, F1 per class) and every test prediction, all from the same predictions.

    Attributes:
        dataset: the dataset slot (``jv2d``, ``c2db``, ``alex``).
        model: ``densenet121``, ``googlenet`` or ``mlp``.
        model_title: how Table S1 names it (``model_title``).
        table_s1: Table S1's row: dataset, model, model_title, ``accuracy_pct`` (%), ``f1_macro``,
            ``f1_weighted`` (fractions) and ``n`` (test images).
        table_2: Table 2's rows: precision, recall, F1 (fractions) and support per class, then
            the accuracy and the averages (``metrics.classification_table``).
        predictions: one row per test image: id, true, predicted and p0-p4 (the network's class
            probabilities; NaN for the MLP).
        network: the trained network (None for the MLP).
        mlp: the MLP's result (None for a network).
        symmetric_predictions: the network's predictions averaged over the 8 symmetric copies of
            each image, same columns (None unless asked for).
    """
    dataset: str
    model: str
    model_title: str
    table_s1: dict
    table_2: pd.DataFrame
    predictions: pd.DataFrame      # id, true, predicted and p0-p4 (the network's class probabilities)
    network: training.TrainedModel | None = None
    mlp: MLPResult | None = None
    symmetric_predictions: pd.DataFrame | None = None   # the same, averaged over 8 symmetric copies

    @property
    def predicted(self) -> np.ndarray:
        """The predicted class of every test image, int [n_test]."""
        return self.predictions["predicted"].to_numpy()


def classification_study(sd: SlotData, model: str, backbone: str | None = None, force: bool = False,
                         symmetric: bool = False, log=print) -> ClassificationStudy:
    """Train (or reuse) ``model`` (densenet121, googlenet, or mlp on frozen features) as a Bravais
    classifier on ``sd`` and score it on its test split: the one study behind Table S1 and Table 2,
    which notebooks 02 and 05 and the multi-seed runner (``paper_runs``) all call. ``symmetric``:
    also the network's predictions averaged over each test image's eight symmetric copies
    (``TrainedModel.symmetric_probabilities``; an improvement on the paper's recipe, reported apart
    from the reproduction).

    Args:
        sd: the slot's data (``classification_slot``).
        model: ``densenet121``, ``googlenet`` or ``mlp``.
        backbone: for ``mlp``, a ``models.BACKBONES`` name; None: the profile's.
        force: train again even when a result is cached.
        symmetric: also average each network's class probabilities over the eight symmetric
            copies of each test image (ignored for ``mlp``).
        log: callable that prints a line.

    Returns:
        The ``ClassificationStudy``.
    """
    truth = sd.test["label"].to_numpy()
    ids = sd.test["id"].astype(str).to_numpy() if "id" in sd.test else np.arange(len(truth)).astype(str)
    net = mlp = symmetric_predictions = None
    if model == "mlp":
        mlp = fit_mlp(sd, "classify", backbone, force=force, log=log)
        pred, proba = np.asarray(mlp.predictions).astype(int), None
    else:
        net = fit_network(sd, "classify", model, force=force, log=log)
        from scipy.special import softmax

        inputs, rows = sd.inputs(net.config.input_px), sd.rows("test")
        scores = net.predict(inputs, rows)
        pred, proba = scores.argmax(axis=1), softmax(scores, axis=1)
        if symmetric:
            averaged = net.symmetric_probabilities(inputs, rows)
            symmetric_predictions = prediction_frame(ids, truth, averaged.argmax(axis=1), averaged)
    title = model_title(model, backbone or sd.profile.backbone)
    row = {"dataset": sd.slot, "model": model, "model_title": title, **metrics.accuracy_and_f1(truth, pred)}
    return ClassificationStudy(sd.slot, model, title, row, metrics.classification_table(truth, pred, dataset=sd.slot),
                               prediction_frame(ids, truth, pred, proba), net, mlp, symmetric_predictions)


def prediction_frame(ids, truth, predicted, proba=None) -> pd.DataFrame:
    """id, true, predicted and the class probabilities p0-p4 (NaN where the model gives none)."""
    out = pd.DataFrame({"id": ids, "true": np.asarray(truth).astype(int),
                        "predicted": np.asarray(predicted).astype(int)})
    for k in range(training.TrainConfig.n_classes):
        out[f"p{k}"] = np.nan if proba is None or k >= proba.shape[1] else np.asarray(proba)[:, k].round(6)
    return out
