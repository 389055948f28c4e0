"""A lattice per region: the FFT estimator in overlapping windows, windows whose lattices agree
grouped into grains, and each grain's lattice fitted from all of its windows.

A real image may hold several grains (a grain boundary, two flakes), a vacuum hole or a
contaminated corner. One FFT of the whole image then mixes lattices and finds none. Here the
image is cut into windows of about ``WINDOW_FIELD_A`` (``window_origins``, the moving window
of notebook 17 with the edges covered), each window's lattice is estimated, and two windows
belong to one grain when each of the first-order reciprocal vectors of one lies within
``GRAIN_MATCH_TOL`` (relative) of one of the other's: the same spacings and the same orientation
(1.5 % is 0.9° of rotation). A grain's lattice is the mean of its windows' reciprocal bases,
brought to one indexing; its uncertainty combines the windows' own and their scatter. When one
grain covers the image, the whole-image fit (more periods, smaller error) is its lattice.

A window holds only a few periods of a large cell, and a honeycomb's strongest spots are those of
a cell √3 smaller: windows then agree on a sub-cell (1/√2, 1/√3 or 1/2 of the true one) while
the whole-image fit sees every spot. When a grain's reciprocal lattice is part of the
whole-image fit's (``subcell_index``), the grain is refitted in the whole-image fit's cell.

The image's answer (``GrainAnalysis.answer``, ``answer_source``) is the largest grain when it
covers at least ``HEADLINE_MIN_SHARE`` of the image; a smaller grain never outranks a reliable
whole-image fit, and where no such fit exists the answer from a small grain is marked not
reliable, saying why.

Two or more grains of one material at different orientations carry the same scan distortion
of the frame: ``distortion_from_grains`` measures it (``scan_distortion.from_grains``) and every
lattice then carries its ``corrected`` cell and class beside the strict one. One grain cannot
separate the scan from the material, and the analysis says so.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from . import scan_distortion
from .fft_lattice import (
    LatticeEstimate,
    corrected,
    estimate_lattice,
    lattice_from_basis,
    reciprocal_basis_of,
    validate_image,
)
from .scan_distortion import NotMeasurable, ScanDistortion

__all__ = ["WINDOW_FIELD_A", "MIN_WINDOW_PX", "MAX_WINDOW_PX", "MAX_WINDOWS_PER_SIDE", "GRAIN_MATCH_TOL",
           "SINGLE_GRAIN_SHARE", "HEADLINE_MIN_SHARE", "SUBCELL_INDICES", "SUBCELL_TOL", "Grain", "GrainAnalysis",
           "window_origins", "window_size", "short_vectors", "lattice_mismatch", "mismatch_matrix", "subcell_index",
           "choose_answer", "analyse_image", "distortion_from_grains", "with_distortion", "grain_rows"]

WINDOW_FIELD_A = 40.0       # window side in Å: a dozen periods of a 3 Å lattice
MIN_WINDOW_PX = 64
MAX_WINDOW_PX = 1024        # a finer-sampled image is binned first (memory bound)
MAX_WINDOWS_PER_SIDE = 16   # bounds the work (and the time) on very large images
GRAIN_MATCH_TOL = 0.015     # relative distance of first-order reciprocal vectors within a grain
SINGLE_GRAIN_SHARE = 0.8    # one grain this large: the whole-image fit is its lattice
# the smallest share of the image a grain must cover to be the image's answer: the hard cases
# require every grain of a fifth of the image to be found (``hard_cases.compare_with_truth``)
HEADLINE_MIN_SHARE = 0.2
# sub-cells a window can mistake for the cell: area ratios 2, 3 and 4 (lengths / √2, √3, 2)
SUBCELL_INDICES = (2, 3, 4)
SUBCELL_TOL = 2 * GRAIN_MATCH_TOL    # relative residual of a sub-cell's vectors on the larger lattice


def window_origins(shape, size: int, stride: int, cover_edges: bool = True) -> list[tuple[int, int]]:
    """Top-left corners (row, col) of ``size`` px windows every ``stride`` px; with
    ``cover_edges`` a last row and column of windows ends at the image's edge.

    Args:
        shape: the image's (H, W) in px.
        size: window side (px).
        stride: step between windows (px).
        cover_edges: add a last row and column of windows that end at the image's edge.

    Returns:
        [(row, col)] of every window, row by row.

    Raises:
        ValueError: the window is larger than the image, or the stride is not positive.
    """
    H, W = shape
    if size > min(H, W):
        raise ValueError(f"window of {size} px is larger than the image ({W} x {H} px)")
    if stride <= 0:
        raise ValueError(f"window stride must be positive, got {stride}")

    def starts(n):
        s = list(range(0, n - size + 1, stride))
        if cover_edges and s[-1] != n - size:
            s.append(n - size)
        return s

    return [(r, c) for r in starts(H) for c in starts(W)]


def window_size(shape, pixel_size: float) -> tuple[int, int]:
    """Window side and stride (px) for an image: about WINDOW_FIELD_A, at most half the image,
    at least MIN_WINDOW_PX (and never more than the image); a quarter-window stride, widened so
    that no side has more than MAX_WINDOWS_PER_SIDE windows.

    Args:
        shape: the image's (H, W) in px.
        pixel_size: pixel size (Å per pixel).

    Returns:
        (size, stride) in px.
    """
    side = min(shape)
    size = int(round(WINDOW_FIELD_A / pixel_size))
    size = max(MIN_WINDOW_PX, min(size, side // 2))
    size = min(size, side)
    stride = max(size // 4, 1)
    longest = max(shape)
    if (longest - size) // stride + 1 > MAX_WINDOWS_PER_SIDE:
        stride = int(np.ceil((longest - size) / (MAX_WINDOWS_PER_SIDE - 1)))
    return size, stride


def short_vectors(B: np.ndarray) -> np.ndarray:
    """+-g1, +-g2, +-(g1 + g2), +-(g1 - g2) of a reduced reciprocal basis: every first-order
    vector of any 2D lattice is among them (a square lattice has g1 + g2 and g1 - g2 equally
    short, a hexagonal one only one of them).

    Args:
        B: a reduced reciprocal basis (rows g1, g2, 1/Å), or a stack of them [..., 2, 2].

    Returns:
        float [..., 8, 2]: the eight vectors of each basis (1/Å).
    """
    B = np.asarray(B, dtype=float)
    g1, g2 = B[..., 0, :], B[..., 1, :]
    v = np.stack([g1, g2, g1 + g2, g1 - g2], axis=-2)
    return np.concatenate([v, -v], axis=-2)


def lattice_mismatch(B1: np.ndarray, B2: np.ndarray) -> float:
    """Largest relative distance from a basis vector (+-g1, +-g2) of one reduced reciprocal basis
    to the nearest short vector of the other, both ways: 0 for the same lattice in the same
    orientation, whatever the choice of basis.

    Args:
        B1: 2 x 2 reduced reciprocal basis, rows g1, g2 (1/Å).
        B2: the other one (1/Å).

    Returns:
        The mismatch as a fraction of the basis vector's length (0.015 = 1.5 %).
    """
    return float(mismatch_matrix([B1, B2])[0, 1])


def mismatch_matrix(bases: list) -> np.ndarray:
    """``lattice_mismatch`` of every pair of reduced reciprocal bases at once.

    Args:
        bases: n bases, each 2 x 2 (rows g1, g2 in 1/Å).

    Returns:
        float [n, n], symmetric, 0 on the diagonal.
    """
    if not bases:
        return np.zeros((0, 0))
    B = np.asarray(bases, dtype=float)                        # [n, 2, 2]
    p = np.concatenate([B, -B], axis=1)                        # [n, 4, 2]: +-g1, +-g2
    q = short_vectors(B)                                       # [n, 8, 2]
    d = np.linalg.norm(p[:, None, :, None] - q[None, :, None, :], axis=-1).min(axis=3)   # [n, n, 4]
    one_way = (d / np.linalg.norm(p, axis=2)[:, None, :]).max(axis=2)
    return np.maximum(one_way, one_way.T)


def _align(B: np.ndarray, ref: np.ndarray) -> np.ndarray | None:
    """``B`` re-indexed onto ``ref``'s basis vectors (an integer unimodular change of basis), or
    None if it does not describe the same lattice."""
    T = np.rint(B @ np.linalg.inv(ref))
    if abs(round(abs(np.linalg.det(T)))) != 1:
        return None
    return np.linalg.inv(T) @ B


def subcell_index(small: np.ndarray, large: np.ndarray) -> int | None:
    """n when every reciprocal vector of the reduced reciprocal basis ``small`` is a vector of
    ``large``'s reciprocal lattice (rows ``small = M @ large`` with M integer, |det M| = n): the
    real cell of ``small`` is that of ``large`` divided by n in area. 1 is the same lattice; None
    when ``small``'s vectors are not on ``large``'s lattice within ``SUBCELL_TOL``.

    Args:
        small: 2 x 2 reduced reciprocal basis, rows g1, g2 (1/Å).
        large: 2 x 2 reciprocal basis of the candidate larger cell (1/Å).

    Returns:
        n = |det M| (the real-cell area ratio), or None.
    """
    M = np.rint(small @ np.linalg.inv(large))
    residual = np.linalg.norm(small - M @ large, axis=1) / np.linalg.norm(small, axis=1)
    n = int(round(abs(np.linalg.det(M))))
    if n < 1 or residual.max() > SUBCELL_TOL:
        return None
    return n


@dataclass
class Grain:
    """One grain of an image: a region whose windows agree on one lattice, and that lattice.

    Attributes:
        lattice: the grain's lattice (fitted from its windows, or the whole-image fit).
        area_share: share of the image's area assigned to this grain (0-1).
        n_windows: windows that found this lattice.
        source: "windows" (mean of its windows) or "whole image".
        window_spread: standard deviation over its windows of a and b (Å) and gamma (degrees).
    """
    lattice: LatticeEstimate
    area_share: float            # share of the image's area assigned to this grain
    n_windows: int
    source: str                  # "windows" (mean of its windows) or "whole image"
    window_spread: dict = field(default_factory=dict)   # std of a, b, gamma over its windows

    def summary(self) -> str:
        """One line: area share, windows, orientation (degrees) and the lattice's summary."""
        return (f"{100 * self.area_share:.0f} % of the image, {self.n_windows} windows, "
                f"orientation {self.lattice.orientation_deg:.1f}°: {self.lattice.summary()}")


@dataclass
class GrainAnalysis:
    """The grain analysis of an image (``analyse_image``): its grains, the whole-image fit and the
    image's answer.

    When ``answer`` is not given it is chosen on construction (``choose_answer``), and the notes
    of that choice are added to ``notes``.

    Attributes:
        grains: the ``Grain`` s, largest first.
        whole: the whole-image fit.
        window_px: window side, in px of the image as given.
        stride_px: window stride, in px of the image as given; the grain map's cells are
            ``stride_px`` x ``stride_px`` of those.
        grain_map: int array [rows, cols], the grain index per stride cell, -1 where none.
        n_windows: windows analysed.
        n_windows_with_lattice: windows that found a single reliable lattice.
        notes: what was done and found, for people.
        answer: the image's answer (see the module docstring).
        answer_source: "grain 0" or "whole image".
        distortion: the frame's measured scan distortion (None when none was measured); the
            lattices then carry their ``corrected`` cells.
        distortion_note: why no distortion was measured ("" when one was).
        answer_notes: the notes ``choose_answer`` added (part of ``notes``).
    """
    grains: list                 # Grain, largest first
    whole: LatticeEstimate       # the whole-image fit
    window_px: int
    stride_px: int
    grain_map: np.ndarray        # [rows, cols] grain index per stride cell, -1 where none
    n_windows: int
    n_windows_with_lattice: int
    notes: list = field(default_factory=list)
    answer: LatticeEstimate | None = None    # the image's answer (see the module docstring)
    answer_source: str = ""                  # "grain 0", "whole image"
    distortion: ScanDistortion | None = None
    distortion_note: str = ""
    answer_notes: list = field(default_factory=list)    # the notes of the answer's choice

    def __post_init__(self):
        if self.answer is None:
            self.answer, self.answer_source, self.answer_notes = choose_answer(self.grains, self.whole)
            self.notes = [*self.notes, *self.answer_notes]


def choose_answer(grains: list, whole: LatticeEstimate) -> tuple[LatticeEstimate, str, list]:
    """(answer, its source, notes): the largest grain when it covers ``HEADLINE_MIN_SHARE`` of the
    image; else a reliable whole-image fit; else the largest grain, marked not reliable.

    Args:
        grains: the image's ``Grain`` s, largest first.
        whole: the whole-image fit.

    Returns:
        (answer, source, notes): the chosen ``LatticeEstimate`` (a copy marked not reliable, with
        the reason, when only a small grain shows it), "grain 0" or "whole image", and notes
        saying why when the largest grain was not simply taken.
    """
    whole_ok = whole.label >= 0 and whole.reliable
    if not grains:
        return whole, "whole image", []
    top = grains[0]
    if top.area_share >= HEADLINE_MIN_SHARE:
        return top.lattice, "grain 0", []
    share = f"{100 * top.area_share:.1f} % of the image"
    if whole_ok:
        return whole, "whole image", [
            f"the largest grain covers only {share} (less than {100 * HEADLINE_MIN_SHARE:.0f} %): the "
            "answer is the whole-image fit, which the whole image supports"]
    reason = (f"only a grain of {share} (less than {100 * HEADLINE_MIN_SHARE:.0f} %) shows this lattice, "
              "and the whole image gives no reliable fit")
    return dataclasses.replace(top.lattice, reliable=False, reason=reason), "grain 0", [
        f"the answer comes from a grain of {share}, {top.n_windows} window(s): not reliable"]


def _fit_grain(members: list, estimates: list, pixel_size: float, seed: int,
               cell: np.ndarray | None = None) -> tuple[LatticeEstimate, dict] | None:
    """The grain's lattice from its windows; with ``cell`` (a reciprocal basis whose lattice holds
    the windows' one) the windows' bases are expressed in that larger cell first."""
    ref_i = max(members, key=lambda i: (estimates[i].n_peaks, estimates[i].peak_snr))
    ref = reciprocal_basis_of(estimates[ref_i])
    aligned = [a for a in (_align(reciprocal_basis_of(estimates[i]), ref) for i in members) if a is not None]
    if not aligned:
        return None
    stack = np.array(aligned)                                  # [n, j, c]
    B = stack.mean(axis=0)
    if cell is not None:
        # B = M @ cell with M integer: each window's basis in the larger cell is M^-1 @ its own
        T = np.linalg.inv(np.rint(B @ np.linalg.inv(cell)))
        stack = np.einsum("jk,nkc->njc", T, stack)
        B = stack.mean(axis=0)
    X = stack.transpose(0, 2, 1).reshape(len(stack), 4)        # vec(B) ordered (c, j)
    n = len(stack)
    # the windows' own errors, from their a, b, gamma errors (relative, isotropic)
    rel = np.mean([max(estimates[i].a_err / estimates[i].a, estimates[i].b_err / estimates[i].b)
                   for i in members])
    s2 = (rel * np.linalg.norm(B, axis=1)) ** 2                # per basis vector j
    own = np.diag(s2[[0, 1, 0, 1]])                            # vec index c * 2 + j
    scatter = np.cov(X.T) if n > 1 else np.zeros((4, 4))
    # overlapping windows are not independent: count a quarter-window stride as 1/4 of a window
    n_eff = max(1.0, n / 4.0)
    cov = (own + scatter) / n_eff
    fit = lattice_from_basis(B, cov, pixel_size, 200, seed)
    est = LatticeEstimate(**fit, reliable=True, reason="", n_peaks=int(sum(estimates[i].n_peaks for i in members)),
                          peak_snr=float(max(estimates[i].peak_snr for i in members)),
                          pixel_size=float(pixel_size))
    spread = {k: float(np.std([getattr(estimates[i], k) for i in members])) for k in ("a", "b", "gamma")}
    return est, spread


def analyse_image(image, pixel_size: float, window_px: int | None = None, stride_px: int | None = None,
                  seed: int = 0, name: str = "image") -> GrainAnalysis:
    """Grains and their lattices in ``image`` (see the module docstring).

    An image sampled so finely that a ``WINDOW_FIELD_A`` window would exceed ``MAX_WINDOW_PX`` is
    binned first (not when ``window_px`` is given); an image smaller than two windows is analysed
    whole.

    Args:
        image: 2D image [H, W] (rows = y), any real dtype.
        pixel_size: pixel size (Å per pixel).
        window_px: window side (px of the image as given: no binning then); None for
            ``window_size``'s choice.
        stride_px: window stride (px of the image analysed, so binned px when it is binned);
            None for a quarter of ``window_px`` when that is given, else ``window_size``'s choice.
        seed: seed of the sampled errors.
        name: the image's name, for the error messages.

    Returns:
        The ``GrainAnalysis``.

    Raises:
        ValueError: naming ``name``, for an image no method can use
            (``fft_lattice.validate_image``).
    """
    img = validate_image(image, pixel_size, name)
    notes: list = []
    factor = int(np.ceil(WINDOW_FIELD_A / pixel_size / MAX_WINDOW_PX))
    if window_px is not None or factor < 1:
        factor = 1
    if factor > 1:
        # sampled far finer than any lattice needs: bin so that a window fits MAX_WINDOW_PX
        H, W = (np.array(img.shape) // factor) * factor
        img = np.nanmean(img[:H, :W].reshape(H // factor, factor, W // factor, factor), axis=(1, 3))
        notes.append(f"binned {factor} x {factor} to {pixel_size * factor:.4g} Å/px before the analysis")
        pixel_size = pixel_size * factor
    whole = estimate_lattice(img, pixel_size, seed=seed)
    if window_px:
        size, stride = int(window_px), int(stride_px or max(int(window_px) // 4, 1))
    else:
        size, stride = window_size(img.shape, pixel_size)
        stride = int(stride_px or stride)
    if size >= min(img.shape):
        # too small to cut: the whole image is the one window
        grains = []
        if whole.label >= 0:
            grains = [Grain(whole, 1.0, 1, "whole image")]
        return GrainAnalysis(grains, whole, min(img.shape) * factor, min(img.shape) * factor,
                             np.zeros((1, 1), int) if grains
                             else -np.ones((1, 1), int), 1, int(whole.label >= 0),
                             notes + ["image smaller than two windows: analysed whole"],
                             distortion_note=_ONE_GRAIN)
    origins = window_origins(img.shape, size, stride)
    estimates = [estimate_lattice(img[r:r + size, c:c + size], pixel_size, n_samples=60, seed=seed)
                 for r, c in origins]
    good = [i for i, e in enumerate(estimates) if e.label >= 0 and e.reliable]
    bases = {i: reciprocal_basis_of(estimates[i]) for i in good}
    # union-find over windows whose lattices agree
    parent = {i: i for i in good}

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    agree = mismatch_matrix([bases[i] for i in good]) < GRAIN_MATCH_TOL
    for x, y in zip(*np.nonzero(np.triu(agree, 1))):
        parent[root(good[x])] = root(good[y])
    groups: dict = {}
    for i in good:
        groups.setdefault(root(i), []).append(i)
    members = sorted(groups.values(), key=len, reverse=True)
    # grain map: each window speaks for its central half (to the image's edge for a window at
    # the edge); a stride cell belongs to the grain most of the windows speaking for it belong
    # to, if they outnumber the windows there that found no lattice (a boundary, a contaminated
    # corner, a vacuum hole stay unassigned)
    rows, cols = -(-img.shape[0] // stride), -(-img.shape[1] // stride)
    votes = np.zeros((max(len(members), 1), rows, cols))
    failed_votes = np.zeros((rows, cols))

    def cells(i):
        spans = []
        for start, n in zip(origins[i], img.shape):
            lo = start if start == 0 else start + size // 4
            hi = start + size if start + size == n else start + (3 * size) // 4
            spans.append(slice(lo // stride, -(-hi // stride)))
        return tuple(spans)

    grain_of = {i: g for g, ms in enumerate(members) for i in ms}
    for i in range(len(origins)):
        if i in grain_of:
            votes[(grain_of[i], *cells(i))] += 1
        else:
            failed_votes[cells(i)] += 1
    best = votes.argmax(axis=0)
    top = votes.max(axis=0)
    grain_map = np.where((top > 0) & (top >= failed_votes), best, -1) if members \
        else -np.ones((rows, cols), int)
    # cell areas (the last row and column of cells may be partial)
    h = np.minimum(stride, img.shape[0] - np.arange(rows) * stride)
    w = np.minimum(stride, img.shape[1] - np.arange(cols) * stride)
    area = np.outer(h, w) / img.size
    # a lattice seen in one window only is noise beside a grain of several windows, but the only
    # evidence in an image of small particles (each smaller than a window): kept then
    found = []
    whole_ok = whole.label >= 0 and whole.reliable
    B_whole = reciprocal_basis_of(whole) if whole_ok else None
    for g, ms in enumerate(members):
        share = float(area[grain_map == g].sum())
        if len(ms) == 1 and len(members[0]) > 1:
            notes.append(f"a single window with another lattice (a = {estimates[ms[0]].a:.3f} Å) "
                         "is not counted as a grain")
            continue
        fitted = _fit_grain(ms, estimates, pixel_size, seed)
        if fitted is not None and B_whole is not None:
            n = subcell_index(reciprocal_basis_of(fitted[0]), B_whole)
            if n in SUBCELL_INDICES:
                # the windows' few periods showed only the strongest spots, those of a sub-cell;
                # the whole image shows the spots of the larger cell too
                notes.append(f"the windows of a grain ({share * 100:.1f} % of the image) agree on a = "
                             f"{fitted[0].a:.3f} Å, a cell 1/√{n} of the whole-image fit's (a = {whole.a:.3f} Å), "
                             f"whose reciprocal lattice holds every spot of theirs: the grain is reported "
                             f"in the whole-image fit's cell (a window of {size * pixel_size:.0f} Å holds "
                             f"{size * pixel_size / whole.b:.1f} periods of it)")
                fitted = _fit_grain(ms, estimates, pixel_size, seed, cell=B_whole) or fitted
            elif n is None and subcell_index(B_whole, reciprocal_basis_of(fitted[0])) in SUBCELL_INDICES:
                notes.append(f"the whole-image fit (a = {whole.a:.3f} Å) is a sub-cell of a grain's lattice "
                             f"(a = {fitted[0].a:.3f} Å): the grain's cell explains every spot")
        if fitted is not None and share > 0:
            found.append((g, Grain(fitted[0], share, len(ms), "windows", fitted[1])))
    found.sort(key=lambda t: t[1].area_share, reverse=True)
    renumbered = -np.ones_like(grain_map)
    for new, (g, _) in enumerate(found):
        renumbered[grain_map == g] = new
    grains = [gr for _, gr in found]
    if grains and grains[0].area_share >= SINGLE_GRAIN_SHARE and whole.label >= 0 and whole.reliable:
        mismatch = lattice_mismatch(reciprocal_basis_of(whole), reciprocal_basis_of(grains[0].lattice))
        if mismatch < GRAIN_MATCH_TOL:
            grains[0] = Grain(whole, grains[0].area_share, grains[0].n_windows, "whole image",
                              grains[0].window_spread)
        else:
            notes.append(f"the whole-image fit (a = {whole.a:.3f}, b = {whole.b:.3f} Å, γ = "
                         f"{whole.gamma:.2f}°) is {100 * mismatch:.1f} % from the mean of the windows: "
                         "the lattice changes across the image (scan distortion that varies along "
                         "the frame); the grain keeps the mean of its windows")
    failed = len(origins) - len(good)
    if failed:
        notes.append(f"{failed} of {len(origins)} windows ({size * factor} px, {size * pixel_size:.1f} Å) hold no "
                     "single reliable lattice (a boundary, vacuum, contamination or noise)")
    # window and stride in pixels of the image as given (the map's cells are stride_px of those)
    analysis = GrainAnalysis(grains, whole, size * factor, stride * factor, renumbered, len(origins), len(good),
                             notes)
    try:
        distortion = distortion_from_grains(analysis.grains, seed)
    except NotMeasurable as exc:
        analysis.distortion_note = str(exc)
        return analysis
    return with_distortion(analysis, distortion, seed)


_ONE_GRAIN = ("one grain alone cannot separate the scan distortion from the material's own cell: it takes two "
              "grains at different orientations, a reference frame (--calibration) or an orthogonal scan pair")


def distortion_from_grains(grains: list, seed: int = 0) -> ScanDistortion:
    """The frame's scan distortion from its grains (``scan_distortion.from_grains``).

    Args:
        grains: the analysis's ``Grain`` s (each with a found lattice).
        seed: seed of the uncertainty's draws.

    Returns:
        The measured ``ScanDistortion``.

    Raises:
        NotMeasurable: fewer than two grains, or grains that cannot measure it (the message says
            why).
    """
    found = [g.lattice for g in grains if g.lattice.label >= 0 and g.lattice.basis_cov]
    if len(found) < 2:
        raise NotMeasurable(_ONE_GRAIN)
    return scan_distortion.from_grains([np.array([e.a_vec, e.b_vec]) for e in found],
                                       [np.array(e.basis_cov) for e in found], seed=seed)


def with_distortion(analysis: GrainAnalysis, distortion: ScanDistortion, seed: int = 0) -> GrainAnalysis:
    """A copy of ``analysis`` whose grains, whole-image fit and answer carry their lattices after
    removing ``distortion`` (``fft_lattice.corrected``), with the distortion and a note.

    Args:
        analysis: a grain analysis of one frame.
        distortion: that frame's measured scan distortion (from its grains, a calibration or an
            orthogonal pair).
        seed: seed of the corrected lattices' sampled errors.

    Returns:
        The corrected copy (``answer`` and ``answer_source`` chosen again, from the corrected grains).
    """
    grains = [dataclasses.replace(g, lattice=corrected(g.lattice, distortion, seed)) for g in analysis.grains]
    whole = corrected(analysis.whole, distortion, seed)
    notes = [n for n in analysis.notes if n not in analysis.answer_notes] + [distortion.summary(), *distortion.notes]
    return dataclasses.replace(analysis, grains=grains, whole=whole, answer=None, answer_source="",
                               notes=notes, distortion=distortion, distortion_note="")


def _corrected_columns(lat: LatticeEstimate) -> dict:
    c = lat.corrected or {}
    return {"class_corrected": c.get("class_name"), "corrected_a": c.get("a"), "corrected_b": c.get("b"),
            "corrected_gamma": c.get("gamma"), "corrected_gamma_err": c.get("gamma_err"),
            "correction_source": c.get("source")}


def grain_rows(analysis: GrainAnalysis, image: str) -> list[dict]:
    """One table row per grain (and one for the whole-image fit): lattice with errors, the strict
    class, the lattice and class after removing a measured scan distortion (empty when none was
    measured) and its source, the distortion a hexagonal or square reading would need,
    first-order spacings, area share.

    Args:
        analysis: the image's grain analysis.
        image: the image's name, written in every row.

    Returns:
        One dict per grain, then the whole-image fit (grain "whole"): lengths and spacings in Å,
        angles in degrees, distortions in %, area share a fraction (None for the whole-image row).
    """
    rows = []
    for k, g in [*enumerate(analysis.grains), ("whole", None)]:
        lat = analysis.whole if g is None else g.lattice
        rows.append({"image": image, "grain": k, "source": "whole-image fit" if g is None else g.source,
                     "area_share": None if g is None else round(g.area_share, 3),
                     "windows": None if g is None else g.n_windows,
                     "a": lat.a, "a_err": lat.a_err, "b": lat.b, "b_err": lat.b_err,
                     "gamma": lat.gamma, "gamma_err": lat.gamma_err, "class_strict": lat.class_name,
                     **_corrected_columns(lat),
                     "to_hexagonal_pct": (lat.distortions_pct or {}).get("hp"),
                     "to_square_pct": (lat.distortions_pct or {}).get("tp"),
                     "first_order_spacings": " / ".join(f"{d:.3f}" for d in lat.first_order_spacings),
                     "orientation_deg": lat.orientation_deg, "reliable": lat.reliable,
                     "reason": lat.reason})
    return rows
