"""The analysis of notebook 18 (the 4D-STEM divisive K-means paper), free of the simulation:
central-beam alignment, the ring-mask feature selection, the divisive hierarchical K-means with
its elbow rule, virtual images of momentum-space clusters, and accuracies against a labelling;
the tables notebook 18 writes from them. The specimen it is tried on, with its ground truth, is
``heterojunction``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["check_scan", "centre_of_mass", "align_central_beam", "radial_profile", "ring_radii", "ring_mask",
           "select_features", "Preprocessed", "preprocess", "alignment_table", "elbow", "Node", "divisive_kmeans",
           "labels_at", "tree_table", "mapped_accuracy", "matched_accuracy", "SplitScore", "rotation_split",
           "ripple_split", "restart_accuracies", "accuracy_summary", "virtual_images", "virtual_image_correlations",
           "compare_methods"]


def check_scan(data) -> np.ndarray:
    """The 4D-STEM scan as an array, checked.

    Args:
        data: the scan [scan_y, scan_x, detector_y, detector_x] (counts).

    Returns:
        The scan as a numpy array (not copied when it is one).

    Raises:
        ValueError: ``data`` is not a 4D numeric array with every axis at least 2 long.
    """
    arr = np.asarray(data)
    if arr.ndim != 4:
        raise ValueError(f"a 4D-STEM scan is an array [scan_y, scan_x, detector_y, detector_x]; got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"a 4D-STEM scan holds numbers (counts); got dtype {arr.dtype}")
    if min(arr.shape) < 2:
        raise ValueError(f"every axis of a 4D-STEM scan needs at least 2 pixels; got shape {arr.shape}")
    return arr


# ------------------------------------------------------------------ preprocessing

def centre_of_mass(data: np.ndarray, radius: float, centre=None) -> np.ndarray:
    """Sub-pixel CoM [Sy, Sx, 2] (x, y) of the central beam inside a disk of ``radius`` px.

    Args:
        data: the scan [Sy, Sx, Dy, Dx] (counts).
        radius: radius of the disk (detector pixels).
        centre: (x, y) of the disk's centre (detector pixels); None: the detector centre (Dx / 2, Dy / 2).

    Returns:
        float array [Sy, Sx, 2], each pattern's centre of mass (x, y) in detector pixels; (0, 0)
        where the disk holds no counts.
    Raises:
        ValueError: ``data`` is not a 4D numeric array with every axis at least 2 long.
    """
    data = check_scan(data)
    D0, D1 = data.shape[2:]
    c = np.array([D1 / 2, D0 / 2]) if centre is None else np.asarray(centre, float)
    yy, xx = np.mgrid[0:D0, 0:D1]
    m = (np.hypot(xx - c[0], yy - c[1]) <= radius).astype(np.float32)
    w = data * m
    tot = w.sum((2, 3))
    tot = np.where(tot > 0, tot, 1)
    return np.stack([(w * xx).sum((2, 3)) / tot, (w * yy).sum((2, 3)) / tot], -1)


def _shift(data: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Each pattern shifted by (dx, dy) px, bilinear (a Fourier shift would ring around the
    bright central beam and put scan-dependent structure into every pattern)."""
    from scipy import ndimage
    out = np.empty_like(data, dtype=np.float32)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            out[i, j] = ndimage.shift(data[i, j], (dy[i, j], dx[i, j]), order=1, mode="constant")
    return out


def align_central_beam(data, radius: float = 4.0, tol: float = 0.01, max_iter: int = 20) -> tuple[np.ndarray, list]:
    """Repeat: CoM of the central beam, shift every pattern so it sits at the detector centre;
    until the CoMs' standard deviation and their mean's distance from the centre are both
    below ``tol`` px (the document: 0.01 px). Returns (aligned data, [(std, offset)] per pass).

    Shifts are bilinear with zero fill; each pass shifts the already shifted patterns.

    Args:
        data: the scan [Sy, Sx, Dy, Dx] (counts).
        radius: radius of the disk the CoM is taken in (detector pixels).
        tol: convergence threshold (detector pixels).
        max_iter: largest number of passes.

    Returns:
        (float32 aligned scan [Sy, Sx, Dy, Dx]; list of (std, offset) in detector pixels, one per
        pass, measured before that pass's shift).
    Raises:
        ValueError: ``data`` is not a 4D numeric array with every axis at least 2 long.
    """
    data = check_scan(data).astype(np.float32)
    D0, D1 = data.shape[2:]
    centre = np.array([D1 / 2, D0 / 2])
    log = []
    com = centre_of_mass(data, radius, centre)
    for _ in range(max_iter):
        std = float(np.hypot(*com.reshape(-1, 2).std(0)))
        off = float(np.hypot(*(com.reshape(-1, 2).mean(0) - centre)))
        log.append((std, off))
        if std < tol and off < tol:
            break
        data = _shift(data, centre[0] - com[..., 0], centre[1] - com[..., 1])
        com = centre_of_mass(data, radius, centre)
    return data, log


def radial_profile(image: np.ndarray) -> np.ndarray:
    """Mean of ``image`` over rings of 1 px about the detector centre (index = radius).

    Args:
        image: a pattern [Dy, Dx]; its centre is (Dx / 2, Dy / 2).

    Returns:
        float array, the mean at each radius rounded to whole pixels (0 where a ring is empty).
    """
    D0, D1 = image.shape
    yy, xx = np.mgrid[0:D0, 0:D1]
    r = np.rint(np.hypot(xx - D1 / 2, yy - D0 / 2)).astype(int)
    return np.bincount(r.ravel(), image.ravel()) / np.maximum(np.bincount(r.ravel()), 1)


def ring_radii(data: np.ndarray, max_shift: float = 0.0) -> tuple[float, float]:
    """Inner and outer radius of the ring mask: inside, twice the central beam's half-maximum
    radius (from the mean pattern) plus 4 px, which keeps the beam and its edge out; outside,
    the detector edge less the largest alignment shift (the zero-filled border) and 1 px.

    Args:
        data: the (aligned) scan [Sy, Sx, Dy, Dx].
        max_shift: largest shift the alignment applied (detector pixels).

    Returns:
        (inner radius, outer radius) in detector pixels.
    Raises:
        ValueError: ``data`` is not a 4D numeric array with every axis at least 2 long.
    """
    data = check_scan(data)
    prof = radial_profile(data.reshape(-1, *data.shape[2:]).mean(0))
    half = int(np.argmax(prof < prof[0] / 2)) or 1
    return 2.0 * half + 4, min(data.shape[2:]) / 2 - np.ceil(max_shift) - 1


def ring_mask(shape, r_in: float, r_out: float) -> np.ndarray:
    """Detector pixels between two radii about the detector centre.

    Args:
        shape: detector shape (Dy, Dx); the centre is (Dx / 2, Dy / 2).
        r_in: inner radius (detector pixels, included).
        r_out: outer radius (detector pixels, included).

    Returns:
        bool mask [Dy, Dx].
    """
    D0, D1 = shape
    yy, xx = np.mgrid[0:D0, 0:D1]
    r = np.hypot(xx - D1 / 2, yy - D0 / 2)
    return (r >= r_in) & (r <= r_out)


def select_features(data: np.ndarray, mask: np.ndarray, share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """(features [Sy * Sx, n], selected-pixel mask): inside ``mask``, the ``share`` of detector
    pixels with the highest standard deviation across the scan (the document: 30 %).

    Args:
        data: the (aligned) scan [Sy, Sx, Dy, Dx].
        mask: bool [Dy, Dx], the detector pixels to choose from (``ring_mask``).
        share: fraction of them kept (0-1).

    Returns:
        (features [Sy * Sx, n] with the data's dtype, one row per probe position in scan order;
        bool mask [Dy, Dx] of the n selected pixels).

    Raises:
        ValueError: ``data`` is not a valid scan, or ``mask`` selects no pixel.
    """
    data = check_scan(data)
    std = data.reshape(-1, *data.shape[2:]).std(0)
    vals = std[mask]
    if len(vals) == 0:
        raise ValueError("the ring mask selects no detector pixel; check its radii")
    thr = np.quantile(vals, 1 - share)
    sel = mask & (std >= thr)
    return data[:, :, sel].reshape(-1, int(sel.sum())), sel


# ------------------------------------------------------------------ clustering

def elbow(X: np.ndarray, k_max: int = 6, seed: int = 0, split_threshold: float = 0.9) -> tuple[int, np.ndarray]:
    """K by the elbow of the within-cluster sum of squares (mini-batch K-means, K = 1..k_max):
    the point farthest below the chord from K = 1 to K = k_max; K = 1 when two clusters
    remove less than 1 - ``split_threshold`` of the spread (nothing to split).

    Args:
        X: samples [n, f].
        k_max: largest K tried (at most n).
        seed: seed of the K-means.
        split_threshold: largest WSS(2) / WSS(1) that still counts as a split.

    Returns:
        (K, WSS for K = 1..k_max as a float array, in the features' units squared).
    """
    from sklearn.cluster import MiniBatchKMeans
    n = len(X)
    k_max = int(min(k_max, n))
    wss = [float(((X - X.mean(0)) ** 2).sum())]
    for k in range(2, k_max + 1):
        wss.append(float(MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=1024).fit(X).inertia_))
    wss = np.array(wss)
    if k_max < 2 or wss[0] <= 0 or wss[1] / wss[0] > split_threshold:
        return 1, wss
    x = np.arange(1, k_max + 1, dtype=float)
    y = wss / wss[0]
    chord = y[0] + (y[-1] - y[0]) * (x - 1) / max(k_max - 1, 1)
    return int(x[np.argmax(chord - y)]), wss


@dataclass
class Node:
    """A cluster of the divisive hierarchy.

    Attributes:
        name: its path, e.g. "2.1" (first sub-cluster of the second cluster; clusters numbered by
            size, largest first); "" for the root.
        indices: int array of the rows of the features it holds.
        depth: its depth (0 for the root).
        k: number of sub-clusters the elbow chose (1: not split).
        wss: the elbow's WSS curve for K = 1..k_max, None when the node was not examined.
        children: the sub-clusters, None for a leaf.
    """
    name: str
    indices: np.ndarray
    depth: int
    k: int = 1
    wss: np.ndarray | None = None
    children: list | None = None


def divisive_kmeans(X: np.ndarray, max_depth: int = 3, min_size: int = 30, k_max: int = 6,
                    seed: int = 0, log=print) -> Node:
    """Divisive hierarchical K-means: cluster, then cluster each cluster again, K chosen by the
    elbow at every node, until ``max_depth`` or clusters smaller than ``min_size``.

    A cluster is examined only when it holds at least 2 ``min_size`` samples; the features are the
    raw intensities (not standardised).

    Args:
        X: features [n_samples, n_features].
        max_depth: largest depth of the tree.
        min_size: clusters with fewer than 2 ``min_size`` samples are not split.
        k_max: largest K tried at each node.
        seed: seed of the K-means.
        log: function called with a line when nothing is split.

    Returns:
        The root ``Node``.

    Raises:
        ValueError: ``X`` is not a non-empty 2D array.
    """
    from sklearn.cluster import KMeans
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"features must be a non-empty array [n_samples, n_features]; got shape {X.shape}")

    def grow(node: Node) -> Node:
        if node.depth >= max_depth or len(node.indices) < 2 * min_size:
            return node
        Xn = X[node.indices]            # raw intensities, as the document: the spots dominate
        k, wss = elbow(Xn, k_max, seed)
        node.k, node.wss = k, wss
        if k == 1:
            return node
        lab = KMeans(k, random_state=seed, n_init=10).fit_predict(Xn)
        order = np.argsort([-np.sum(lab == c) for c in range(k)])
        node.children = [grow(Node(f"{node.name}.{r + 1}" if node.name else str(r + 1), node.indices[lab == c],
                                   node.depth + 1))
                         for r, c in enumerate(order)]
        return node

    root = grow(Node("", np.arange(len(X)), 0))
    if root.children is None:
        log("one cluster: the elbow finds nothing to split (no crystalline feature in these patterns)")
    return root


def labels_at(root: Node, depth: int, n: int) -> tuple[np.ndarray, list]:
    """Cluster index per sample at ``depth`` (a leaf above it keeps its own), and the names.

    Args:
        root: the root of ``divisive_kmeans``.
        depth: the depth to cut the tree at.
        n: number of samples.

    Returns:
        (int array [n] of indices into the names, -1 for a sample in no cluster; list of the
        clusters' names, "all" for the root).
    """
    names, lab = [], np.full(n, -1)

    def walk(node: Node):
        if node.depth == depth or not node.children:
            lab[node.indices] = len(names)
            names.append(node.name or "all")
            return
        for ch in node.children:
            walk(ch)
    walk(root)
    return lab, names


def mapped_accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
    """Accuracy after giving each cluster the majority truth of its members.

    Several clusters may take the same class.

    Args:
        labels: cluster index per sample.
        truth: true class per sample (non-negative integers).

    Returns:
        The accuracy, a fraction in [0, 1].
    """
    labels, truth = np.asarray(labels), np.asarray(truth)
    pred = np.empty_like(truth)
    for c in np.unique(labels):
        m = labels == c
        pred[m] = np.bincount(truth[m]).argmax()
    return float((pred == truth).mean())


def matched_accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
    """Accuracy of the best one-to-one matching of clusters to truth classes (Hungarian).

    Args:
        labels: cluster index per sample.
        truth: true class per sample.

    Returns:
        The accuracy, a fraction in [0, 1].
    """
    from scipy.optimize import linear_sum_assignment
    lu, tu = np.unique(labels), np.unique(truth)
    M = np.array([[np.sum((labels == a) & (truth == b)) for b in tu] for a in lu])
    r, c = linear_sum_assignment(-M)
    return float(M[r, c].sum() / len(truth))


def virtual_images(data: np.ndarray, mask: np.ndarray, k: int | None = None, seed: int = 0):
    """The momentum-space variant: every detector pixel inside ``mask`` is a sample whose
    features are its real-space image (standardised, since intensities differ by orders of
    magnitude across the pattern); K-means (K by the elbow unless given) groups them; the mean
    real-space image of each group is a virtual bright- or dark-field image.
    Returns (cluster map [Dy, Dx] with -1 outside the mask, images [K, Sy, Sx]).

    Args:
        data: the (aligned) scan [Sy, Sx, Dy, Dx] (counts).
        mask: bool [Dy, Dx], the detector pixels clustered.
        k: number of clusters; None: by the elbow (K up to 8).
        seed: seed of the K-means.

    Returns:
        (int cluster map [Dy, Dx], -1 outside ``mask``; virtual images [K, Sy, Sx], the mean counts
        of each cluster's detector pixels at every probe position).
    Raises:
        ValueError: ``data`` is not a 4D numeric array with every axis at least 2 long.
    """
    from sklearn.cluster import KMeans
    data = check_scan(data)
    S0, S1 = data.shape[:2]
    F = data[:, :, mask].reshape(S0 * S1, -1).T.astype(np.float64)
    F = (F - F.mean(1, keepdims=True)) / (F.std(1, keepdims=True) + 1e-9)
    if k is None:
        k, _ = elbow(F, 8, seed)
    lab = KMeans(max(k, 1), random_state=seed, n_init=10).fit_predict(F) if k > 1 else np.zeros(len(F), int)
    cmap = np.full(mask.shape, -1)
    cmap[mask] = lab
    raw = data[:, :, mask].reshape(S0 * S1, -1)
    imgs = np.stack([raw[:, lab == c].mean(1).reshape(S0, S1) for c in range(max(k, 1))])
    return cmap, imgs


def compare_methods(X: np.ndarray, truth: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Two-cluster methods on the same features (the document's Supplementary Table 1): time
    and accuracy against ``truth`` (best one-to-one matching).

    The methods: K-means, mini-batch K-means, agglomerative (Ward), BIRCH, spectral clustering.

    Args:
        X: features [n_samples, n_features].
        truth: true class per sample.
        seed: seed of the methods that draw.

    Returns:
        DataFrame, one row per method: ``method``, ``seconds`` (wall time of the fit), ``accuracy (%)``.
    """
    import time

    from sklearn.cluster import AgglomerativeClustering, Birch, KMeans, MiniBatchKMeans, SpectralClustering
    Xs = np.asarray(X, dtype=np.float64)
    methods = {"K-means": lambda: KMeans(2, random_state=seed, n_init=10),
               "mini-batch K-means": lambda: MiniBatchKMeans(2, random_state=seed, n_init=3),
               "agglomerative (Ward)": lambda: AgglomerativeClustering(2),
               "BIRCH": lambda: Birch(n_clusters=2),
               "spectral": lambda: SpectralClustering(2, random_state=seed, affinity="nearest_neighbors",
                                                      n_neighbors=15)}
    rows = []
    for name, make in methods.items():
        t0 = time.perf_counter()
        lab = make().fit_predict(Xs)
        rows.append({"method": name, "seconds": time.perf_counter() - t0,
                     "accuracy (%)": 100 * matched_accuracy(lab, truth)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ the steps and tables of notebook 18

@dataclass
class Preprocessed:
    """A scan after the document's preprocessing (``preprocess``).

    Attributes:
        com_before: central-beam CoM before alignment [Sy, Sx, 2], (x, y) in detector pixels.
        aligned: the aligned scan, float32 [Sy, Sx, Dy, Dx] (counts).
        passes: (CoM std, mean offset) in detector pixels per alignment pass.
        max_shift: largest CoM offset from the detector centre before alignment (detector pixels).
        r_in: inner radius of the ring mask (detector pixels).
        r_out: outer radius of the ring mask (detector pixels).
        mask: the ring mask, bool [Dy, Dx].
        features: the selected pixels' counts [Sy * Sx, n], one row per probe position.
        selected: the selected detector pixels, bool [Dy, Dx].
        detector_std: standard deviation of each detector pixel across the aligned scan [Dy, Dx] (counts).
    """
    com_before: np.ndarray
    aligned: np.ndarray
    passes: list
    max_shift: float
    r_in: float
    r_out: float
    mask: np.ndarray
    features: np.ndarray
    selected: np.ndarray
    detector_std: np.ndarray


def preprocess(data, radius: float = 4.0, tol: float = 0.01, share: float = 0.3) -> Preprocessed:
    """The document's preprocessing: align the central beam, mask a ring that leaves out the beam
    and the zero-filled border, keep the ``share`` of its pixels that vary most across the scan.

    Args:
        data: the scan [Sy, Sx, Dy, Dx] (counts).
        radius: radius of the disk the central beam's CoM is taken in (detector pixels).
        tol: the alignment's convergence threshold (detector pixels).
        share: fraction of the ring's pixels kept as features (0-1).

    Returns:
        The ``Preprocessed`` scan.

    Raises:
        ValueError: ``data`` is not a 4D numeric array with every axis at least 2 long, or the ring
            selects no pixel.
    """
    data = check_scan(data)
    D0, D1 = data.shape[2:]
    com_before = centre_of_mass(data, radius)
    aligned, passes = align_central_beam(data, radius=radius, tol=tol)
    max_shift = float(np.abs(com_before - np.array([D1 / 2, D0 / 2])).max())
    r_in, r_out = ring_radii(aligned, max_shift)
    mask = ring_mask(aligned.shape[2:], r_in, r_out)
    features, selected = select_features(aligned, mask, share=share)
    detector_std = aligned.reshape(-1, *aligned.shape[2:]).std(0)
    return Preprocessed(com_before, aligned, passes, max_shift, r_in, r_out, mask, features, selected, detector_std)


def alignment_table(passes: list) -> pd.DataFrame:
    """The alignment's passes as a table.

    Args:
        passes: (CoM std, mean offset) in detector pixels per pass (``align_central_beam``).

    Returns:
        DataFrame with columns ``pass`` (from 0), ``CoM std (px)``, ``mean offset (px)``.
    """
    return pd.DataFrame([{"pass": k, "CoM std (px)": spread, "mean offset (px)": offset}
                         for k, (spread, offset) in enumerate(passes)])


def tree_table(root: Node, truth: np.ndarray, class_names) -> pd.DataFrame:
    """Every node of the cluster tree (depth first), the K its elbow chose and how many samples of
    each true class it holds.

    Args:
        root: the root of ``divisive_kmeans``.
        truth: true class per sample (integers from 0).
        class_names: the classes' names, in index order.

    Returns:
        DataFrame, one row per node: ``cluster``, ``depth``, ``positions``, ``K chosen``, then
        ``truth <name>`` per class.
    """
    lines = []

    def walk(node: Node):
        counts = np.bincount(truth[node.indices], minlength=len(class_names))
        lines.append({"cluster": node.name or "all", "depth": node.depth, "positions": len(node.indices),
                      "K chosen": node.k, **{f"truth {c}": int(n) for c, n in zip(class_names, counts)}})
        for child in node.children or []:
            walk(child)

    walk(root)
    return pd.DataFrame(lines)


@dataclass
class SplitScore:
    """How a node's split of the tree separates one true class into target groups.

    Attributes:
        node: the node examined.
        indices: the samples of the class inside it.
        target: the target group of each of those samples (int).
        labels: per sample (all of them) the index of the node's child holding it, -1 elsewhere
            (all -1 when the node is a leaf).
        accuracy: the accuracy of the split on the class's samples (%).
    """
    node: Node
    indices: np.ndarray
    target: np.ndarray
    labels: np.ndarray
    accuracy: float


def _child_labels(node: Node, n: int) -> np.ndarray:
    """Per sample the index of ``node``'s child holding it, -1 elsewhere."""
    labels = np.full(n, -1)
    for k, child in enumerate(node.children or []):
        labels[child.indices] = k
    return labels


def rotation_split(root: Node, truth: np.ndarray, rotation: np.ndarray, cls: int) -> SplitScore:
    """The continuous-feature test (the document's WS2 rotation): does the split of the node that
    holds class ``cls`` separate the sign of the rotation?

    The node is the root's child holding most of the class (the root itself when it holds as
    many), then its child holding more than half of the class there, if any. Accuracy: best
    one-to-one matching of its children to the two signs; for a leaf, the larger sign's share.

    Args:
        root: the root of ``divisive_kmeans``.
        truth: true class per sample (integers).
        rotation: the lattice rotation per sample (degrees; only its sign counts).
        cls: the class examined (its index in ``truth``).

    Returns:
        The ``SplitScore``; its target is 1 where the rotation is positive, else 0.
    """
    def held(node: Node):
        return np.sum(truth[node.indices] == cls)

    node = max([n for n in (root.children or [])] + [root], key=held)
    indices = node.indices[truth[node.indices] == cls]
    parent = node
    for child in parent.children or []:            # descend to the node that holds the class
        if held(child) > 0.5 * len(indices):
            node = child
    indices = node.indices[truth[node.indices] == cls]
    target = (np.asarray(rotation)[indices] > 0).astype(int)
    labels = _child_labels(node, len(truth))
    if node.children:
        accuracy = 100 * matched_accuracy(labels[indices], target)
    else:
        accuracy = 100 * max(target.mean(), 1 - target.mean())
    return SplitScore(node, indices, target, labels, accuracy)


def ripple_split(root: Node, truth: np.ndarray, ripple: np.ndarray, cls: int) -> SplitScore:
    """The ripple test: does the split of the node richest in class ``cls`` separate its flat and
    tilted regions?

    The node is the one among the root's children and grandchildren (the root when it has none)
    with the most samples of the class less the samples of other classes. Accuracy: each child
    labelled with the majority ripple group of its members; for a leaf, the largest group's share.

    Args:
        root: the root of ``divisive_kmeans``.
        truth: true class per sample (integers).
        ripple: ripple group per sample (integers from 0, ``heterojunction.ripple_truth``).
        cls: the class examined (its index in ``truth``).

    Returns:
        The ``SplitScore``; its target is the ripple group of the class's samples.
    """
    candidates = [n for level in (root.children or []) for n in ([level] + (level.children or []))] or [root]
    node = max(candidates, key=lambda n: np.sum(truth[n.indices] == cls) - np.sum(truth[n.indices] != cls))
    indices = node.indices[truth[node.indices] == cls]
    labels = _child_labels(node, len(truth))
    if node.children:
        accuracy = 100 * mapped_accuracy(labels[indices], ripple[indices])
    else:
        accuracy = 100 * np.bincount(ripple[indices]).max() / max(len(indices), 1)
    return SplitScore(node, indices, ripple[indices], labels, accuracy)


def restart_accuracies(X: np.ndarray, target: np.ndarray, restarts: int) -> np.ndarray:
    """Accuracies (%) of two-cluster K-means from ``restarts`` random initialisations (seeds 0, 1,
    ...; one initialisation each) against ``target``, by best one-to-one matching (SI Fig. 17).

    Args:
        X: features [n_samples, n_features].
        target: target group per sample (two groups).
        restarts: number of runs.

    Returns:
        float array [restarts] of accuracies (%).
    """
    from sklearn.cluster import KMeans
    return np.array([100 * matched_accuracy(KMeans(2, n_init=1, init="random", random_state=seed).fit_predict(X),
                                            target)
                     for seed in range(restarts)])


def accuracy_summary(discrete: float, rotation: SplitScore, ripple: SplitScore, runs: np.ndarray,
                     document) -> pd.DataFrame:
    """Notebook 18's accuracy table: discrete regions, the rotation's sign, the ripples and the
    K-means restarts, beside the document's values.

    Args:
        discrete: accuracy (%) of the substrate / WS2 / WSe2 clusters after round 2.
        rotation: the WS2 rotation's ``rotation_split``.
        ripple: the WSe2 ripples' ``ripple_split``.
        runs: accuracies (%) of the K-means restarts (``restart_accuracies``).
        document: the document's values by key (``kmeans_discrete``, ``kmeans_discrete_table``,
            ``kmeans_continuous``, ``kmeans_continuous_table``, ``kmeans_runs_above_75``; %), e.g. a
            pandas Series.

    Returns:
        DataFrame with columns ``measure``, ``ours`` (%), ``document`` (text).
    """
    return pd.DataFrame([
        {"measure": "discrete: substrate / WS2 / WSe2 after round 2 (%)", "ours": discrete,
         "document": f"> {document['kmeans_discrete']:g} (text); "
                     f"{document['kmeans_discrete_table']:g} (Results)"},
        {"measure": "continuous: sign of the WS2 rotation, round-3 split of the tree (%)", "ours": rotation.accuracy,
         "document": f"> {document['kmeans_continuous']:g} (text); "
                     f"{document['kmeans_continuous_table']:g} (Results)"},
        {"measure": "WSe2 ripples: flat / three tilt directions, round-3 split of the WSe2 cluster "
                    f"({len(ripple.node.children or [])} sub-clusters; majority labels, %)",
         "ours": ripple.accuracy, "document": "qualitative (Fig. 2e)"},
        {"measure": f"K-means restarts above 75 % on the rotation ({len(runs)} runs, %)",
         "ours": 100 * float(np.mean(runs > 75)),
         "document": f"{document['kmeans_runs_above_75']:g} (100 runs, SI Fig. 17)"},
        {"measure": "K-means restarts: median accuracy on the rotation (%)", "ours": float(np.median(runs)),
         "document": ""}])


def virtual_image_correlations(cluster_map: np.ndarray, images: np.ndarray, truth: np.ndarray,
                               class_names) -> pd.DataFrame:
    """Correlation of each virtual image with each true region.

    Args:
        cluster_map: detector-pixel cluster per pixel [Dy, Dx], -1 outside the mask (``virtual_images``).
        images: the virtual images [K, Sy, Sx].
        truth: true class per probe position [Sy, Sx] (integers from 0).
        class_names: the classes' names, in index order.

    Returns:
        DataFrame, one row per virtual image: ``virtual image``, ``detector pixels`` (its cluster's
        size), ``r with <name>`` (Pearson correlation with the class's indicator map, NaN when the
        class is absent).
    """
    regions = {name: (truth == k).astype(float) for k, name in enumerate(class_names)}
    return pd.DataFrame([{"virtual image": k, "detector pixels": int((cluster_map == k).sum()),
                          **{f"r with {name}": float(np.corrcoef(image.ravel(), region.ravel())[0, 1])
                             for name, region in regions.items()}}
                         for k, image in enumerate(images)])
