"""The analysis of notebook 18 (the 4D-STEM divisive K-means paper), free of the simulation:
central-beam alignment, the ring-mask feature selection, the divisive hierarchical K-means with
its elbow rule, virtual images of momentum-space clusters, and accuracies against a labelling.
The specimen it is tried on, with its ground truth, is ``heterojunction``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def check_scan(data) -> np.ndarray:
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
    """Sub-pixel CoM [Sy, Sx, 2] (x, y) of the central beam inside a disk of ``radius`` px."""
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
    below ``tol`` px (the document: 0.01 px). Returns (aligned data, [(std, offset)] per pass)."""
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
    """Mean of ``image`` over rings of 1 px about the detector centre (index = radius)."""
    D0, D1 = image.shape
    yy, xx = np.mgrid[0:D0, 0:D1]
    r = np.rint(np.hypot(xx - D1 / 2, yy - D0 / 2)).astype(int)
    return np.bincount(r.ravel(), image.ravel()) / np.maximum(np.bincount(r.ravel()), 1)


def ring_radii(data: np.ndarray, max_shift: float = 0.0) -> tuple[float, float]:
    """Inner and outer radius of the ring mask: inside, twice the central beam's half-maximum
    radius (from the mean pattern) plus 4 px, which keeps the beam and its edge out; outside,
    the detector edge less the largest alignment shift (the zero-filled border) and 1 px."""
    data = check_scan(data)
    prof = radial_profile(data.reshape(-1, *data.shape[2:]).mean(0))
    half = int(np.argmax(prof < prof[0] / 2)) or 1
    return 2.0 * half + 4, min(data.shape[2:]) / 2 - np.ceil(max_shift) - 1


def ring_mask(shape, r_in: float, r_out: float) -> np.ndarray:
    D0, D1 = shape
    yy, xx = np.mgrid[0:D0, 0:D1]
    r = np.hypot(xx - D1 / 2, yy - D0 / 2)
    return (r >= r_in) & (r <= r_out)


def select_features(data: np.ndarray, mask: np.ndarray, share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """(features [Sy * Sx, n], selected-pixel mask): inside ``mask``, the ``share`` of detector
    pixels with the highest standard deviation across the scan (the document: 30 %)."""
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
    remove less than 1 - ``split_threshold`` of the spread (nothing to split)."""
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
    name: str
    indices: np.ndarray
    depth: int
    k: int = 1
    wss: np.ndarray | None = None
    children: list | None = None


def divisive_kmeans(X: np.ndarray, max_depth: int = 3, min_size: int = 30, k_max: int = 6,
                    seed: int = 0, log=print) -> Node:
    """Divisive hierarchical K-means: cluster, then cluster each cluster again, K chosen by the
    elbow at every node, until ``max_depth`` or clusters smaller than ``min_size``."""
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
    """Cluster index per sample at ``depth`` (a leaf above it keeps its own), and the names."""
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
    """Accuracy after giving each cluster the majority truth of its members."""
    labels, truth = np.asarray(labels), np.asarray(truth)
    pred = np.empty_like(truth)
    for c in np.unique(labels):
        m = labels == c
        pred[m] = np.bincount(truth[m]).argmax()
    return float((pred == truth).mean())


def matched_accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
    """Accuracy of the best one-to-one matching of clusters to truth classes (Hungarian)."""
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
    Returns (cluster map [Dy, Dx] with -1 outside the mask, images [K, Sy, Sx])."""
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
    and accuracy against ``truth`` (best one-to-one matching)."""
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
