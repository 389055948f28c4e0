"""Crystal structures for the XRD studies, labelled by the space group spglib finds.

Sources:

* ``offline`` (default): PyXtal random crystals, the same number requested for every space
  group (the paper caps ICSD at 500 per group). PyXtal often returns more symmetry than it was
  asked for (atoms on special positions); every structure is relabelled with spglib and the
  table keeps both numbers, so notebook 09 can say how often. Every structure is a function of
  (seed, group, index), attempts are bounded in CPU time, and the build resumes per group.
  CPU time still depends on the machine and its load: an attempt near the limit finishes on one
  machine and is abandoned on another, which changes a structure and, through training, every
  model-4 row (two builds on one machine differed in one of 3,680 structures). So a build records
  the attempts it abandoned, and a profile whose record is committed in ``timeout_ledger.json``
  replays it: those attempts are skipped, every other one gets ``PIN_SLACK`` times the limit, and
  the corpus is the same on any machine (one that still runs out of time is named in the summary).
* ``cif_dir``: any folder of CIFs (an ICSD or COD export), read with pymatgen, same labelling;
  a CIF that does not parse, has partial occupancies or no volume is skipped with its name and
  the reason, and counted.
* ``aflow_prototypes()``: the 288 real structures of the AFLOW prototype library that ship with
  pymatgen, an external test set of real crystals, each in its conventional standard cell (the
  cell the zone axes [uvw] refer to; most ship as primitive cells).
"""
from __future__ import annotations

import gzip
import json
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import parallel, paths, storage
from ..core.profiles import Profile
from ..data.structures import closest_sites
from .simulate import Crystal, CrystalError
from .symmetry import crystal_system

__all__ = ["SYMPREC", "MIN_DISTANCE", "ELEMENTS", "AFLOW_CITATION", "spglib_group", "record", "conventional_cell",
           "crystal_of", "min_distance", "generate_one", "requested_groups", "corpus_path", "load_structures",
           "structures_summary", "with_split", "read_cif_dir", "aflow_prototypes", "PIN_SLACK", "structure_id",
           "TIMEOUT_LEDGER", "pinned_timeouts", "pin_timeouts", "PACKAGE_CRYSTALS_CITATION", "package_crystals"]

GENERATOR_VERSION = 2   # 2: CPU-time limit on PyXtal's search only
TIMED_OUT = "PyXtal attempt timed out"
# a replayed build gives every attempt the reference build finished this many times its limit, so
# that a machine up to this much slower still finishes it
PIN_SLACK = 10.0
TIMEOUT_LEDGER = Path(__file__).with_name("timeout_ledger.json")
SYMPREC = 0.01            # spglib tolerance (Å) for the labels
MIN_DISTANCE = 0.9        # Å: closer atoms make a structure unphysical; it is redrawn
# a broad choice of elements, light to heavy, metals and non-metals (no noble gases)
ELEMENTS = ("H Li Be B C N O F Na Mg Al Si P S Cl K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
            "Se Br Rb Sr Y Zr Nb Mo Ru Rh Pd Ag Cd In Sn Sb Te I Cs Ba La Ce Nd Sm Gd Hf Ta W "
            "Re Os Ir Pt Au Hg Tl Pb Bi").split()


def spglib_group(crystal: Crystal, symprec: float = SYMPREC) -> int:
    """The space group spglib finds for a crystal (the corpus's label).

    Args:
        crystal: the structure.
        symprec: spglib's distance tolerance in Å.

    Returns:
        The space-group number, 1-230.

    Raises:
        CrystalError: when spglib finds no symmetry.
    """
    import spglib
    from pymatgen.core import Element
    numbers = [Element(s).Z for s in crystal.species]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)    # spglib 2.x error-handling notice
        data = spglib.get_symmetry_dataset((crystal.lattice, crystal.frac, numbers), symprec=symprec)
    if data is None:
        raise CrystalError(f"{crystal.name}: spglib found no symmetry")
    return int(data.number)


def record(crystal: Crystal, source: str, extra: dict | None = None) -> dict:
    """A table row: the structure and its spglib labels.

    Args:
        crystal: the structure (its name becomes the row's ``id``).
        source: where it comes from (``"offline-pyxtal"``, ``"cif"``, ``"aflow"``).
        extra: further columns, added last.

    Returns:
        A dict: ``id``, ``space_group`` (1-230, spglib at ``SYMPREC``), ``crystal_system`` (0-6),
        ``n_atoms``, ``formula``, ``source``, ``lattice`` ([3, 3] nested list, Å, rounded to 1e-6),
        ``frac`` ([n, 3] nested list, rounded to 1e-6), ``species`` (list of symbols), then ``extra``.

    Raises:
        CrystalError: when spglib finds no symmetry.
    """
    sg = spglib_group(crystal)
    return {"id": crystal.name, "space_group": sg, "crystal_system": crystal_system(sg),
            "n_atoms": len(crystal.species),
            "formula": _formula(crystal.species), "source": source,
            "lattice": np.round(crystal.lattice, 6).tolist(),
            "frac": np.round(crystal.frac, 6).tolist(), "species": list(crystal.species),
            **(extra or {})}


def conventional_cell(crystal: Crystal, symprec: float = SYMPREC) -> Crystal:
    """The crystal in its conventional standard cell (spglib's, through pymatgen).

    The zone axes [uvw] of the XRD paper are indices of the conventional cell (a CIF's cell, and
    PyXtal's), so a crystal that ships in a primitive or another setting (most AFLOW prototypes:
    fcc rock salt as a 3.82 Å rhombohedron) is stood in that cell before its patterns are drawn;
    along the primitive cell's [100] it would show the cube's [011].

    Monoclinic cells come out with b unique, as the Laue-class predictions of ``pattern_symmetry``
    assume, except where the refined beta is 90° (pymatgen then orders the axes by length).

    Args:
        crystal: the structure.
        symprec: spglib tolerance in Å (``SYMPREC``, as the labels).

    Returns:
        The same structure in the conventional standard cell (Å), its name kept.

    Raises:
        CrystalError: when spglib finds no symmetry, or the standard cell fails ``Crystal``'s checks.
    """
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
    from spglib.error import SpglibError      # raised instead of None once the new error handling is on
    try:
        conv = SpacegroupAnalyzer(crystal.to_structure(), symprec=symprec).get_conventional_standard_structure()
    except (TypeError, ValueError, SpglibError) as exc:      # spglib's "no symmetry found", pymatgen's odd cells
        raise CrystalError(f"{crystal.name or 'structure'}: no conventional cell ({exc})") from exc
    return Crystal(conv.lattice.matrix, conv.frac_coords, [site.specie.symbol for site in conv], crystal.name)


def _formula(species) -> str:
    c = Counter(species)
    return "".join(f"{el}{n if n > 1 else ''}" for el, n in sorted(c.items()))


def crystal_of(row) -> Crystal:
    """The crystal of a structure-table row (the inverse of ``record``).

    Args:
        row: a mapping (dict or pandas row) with ``lattice`` ([3, 3], Å), ``frac`` ([n, 3]),
            ``species`` and ``id``.

    Returns:
        The ``Crystal``, named by the row's ``id``.

    Raises:
        CrystalError: when the row's structure fails the checks of ``Crystal``.
    """
    return Crystal(np.asarray(row["lattice"]), np.asarray(row["frac"]), row["species"], row["id"])


def min_distance(crystal: Crystal) -> float:
    """Shortest distance between two atoms, periodic images included (Å).

    Args:
        crystal: the structure.

    Returns:
        The distance in Å (an atom's distance to its own image counts).
    """
    return closest_sites(crystal.lattice, crystal.frac)[0]


# ------------------------------------------------------------------ PyXtal (offline)

def _composition(rng, group: int, max_atoms: int):
    """1-3 species; each fills one or two Wyckoff positions, the general one most often, so
    that the crystal keeps the symmetry it was asked for."""
    from pyxtal.symmetry import Group
    wyckoffs = Group(group).Wyckoff_positions
    general = wyckoffs[0].multiplicity
    mults = [w.multiplicity for w in wyckoffs]
    species = [str(x) for x in rng.choice(ELEMENTS, size=int(rng.integers(1, 4)), replace=False)]
    counts = []
    for _ in species:
        n = 0
        for _ in range(int(rng.integers(1, 3))):
            n += general if rng.random() < 0.6 else int(rng.choice(mults))
        counts.append(n)
    while sum(counts) > max_atoms and max(counts) > min(mults):
        i = int(np.argmax(counts))
        counts[i] = int(min(mults))
    return species, counts


_TOL_PATCHED = False


def _speed_up_pyxtal():
    """PyXtal rebuilds its default atomic tolerance table (a pure-Python loop over
    ~100 x 100 element pairs) inside every image check; that is about 60% of its run
    time. Hand ``pyxtal.operations`` a factory that reuses one table for the default
    case: the same numbers, so the same crystals, about twice as fast."""
    global _TOL_PATCHED
    if _TOL_PATCHED:
        return
    import pyxtal.operations as ops

    original = ops.Tol_matrix
    cache = {}

    def tol_matrix(*args, **kwargs):
        if args or set(kwargs) - {"prototype"}:
            return original(*args, **kwargs)
        key = kwargs.get("prototype", "atomic")
        if key not in cache:
            cache[key] = original(prototype=key)
        return cache[key]

    ops.Tol_matrix = tol_matrix
    _TOL_PATCHED = True



def structure_id(group: int, index: int) -> str:
    """The id of a structure of the offline corpus.

    Args:
        group: the requested space group, 1-230.
        index: the structure's number within its group.

    Returns:
        ``"pyxtal-GGG-IIII"``.
    """
    return f"pyxtal-{group:03d}-{index:04d}"


def generate_one(group: int, index: int, seed: int, max_atoms: int = 250,
                 timeout_s: float = 20.0, attempts: int = 8, pinned=None):
    """One PyXtal random crystal requested in space group ``group``, as a table row.

    Every attempt is a function of (seed, group, index, attempt): 1-3 elements of ``ELEMENTS`` on
    one or two Wyckoff positions each; an attempt is rejected when it exceeds ``max_atoms``, PyXtal
    fails or runs out of time, or two atoms lie closer than ``MIN_DISTANCE``.

    Args:
        group: the requested space-group number, 1-230 (spglib may find a higher symmetry; the row
            keeps both, as ``requested_group`` and ``space_group``).
        index: the structure's number within its group (part of its id ``pyxtal-GGG-IIII``).
        seed: the corpus seed.
        max_atoms: the largest cell kept, in atoms.
        timeout_s: CPU time in seconds one PyXtal search may take before it is abandoned.
        attempts: attempts before the structure is given up.
        pinned: None to limit every attempt to ``timeout_s``; or the attempts (numbers from 0) a
            reference build abandoned for time: those are skipped as timed out without running,
            and every other attempt may take ``PIN_SLACK * timeout_s``.

    Returns:
        ``(row, rejected, timed_out)``: the ``record`` of the first accepted attempt (source
        ``"offline-pyxtal"``), or None when every attempt was rejected; a ``Counter`` of the
        reasons the rejected attempts failed; and the numbers of the attempts counted as timed
        out (skipped by ``pinned`` or abandoned here), ascending.
    """
    from pyxtal import pyxtal

    # the drawing libraries warn on many rejected attempts: silenced here, not for the whole process
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _speed_up_pyxtal()
        rejected, timed_out = Counter(), []
        skip = set() if pinned is None else {int(a) for a in pinned}
        limit = timeout_s if pinned is None else PIN_SLACK * timeout_s
        for attempt in range(attempts):
            if attempt in skip:
                rejected[TIMED_OUT] += 1
                timed_out.append(attempt)
                continue
            rng = np.random.default_rng([seed, 230_001, group, index, attempt])
            species, counts = _composition(rng, group, max_atoms)
            if sum(counts) > max_atoms:
                rejected[f"more than {max_atoms} atoms"] += 1
                continue
            xtal = pyxtal()
            try:
                # only PyXtal's search is limited: the first diffraction simulation of a process
                # imports pymatgen's XRD module (~1.7 s), and inside the limit that made the first
                # structure of each worker depend on which worker drew it
                with parallel.time_limit(limit):
                    xtal.from_random(3, group, species, counts,
                                     random_state=int(rng.integers(2**31 - 1)))
            except parallel.AttemptTimeout:
                rejected[TIMED_OUT] += 1
                timed_out.append(attempt)
                continue
            except Exception as exc:  # PyXtal raises many kinds for incompatible compositions
                rejected[type(exc).__name__] += 1
                continue
            try:
                if not xtal.valid:
                    raise CrystalError("PyXtal produced no valid crystal")
                s = xtal.to_pymatgen()
                c = Crystal(s.lattice.matrix, s.frac_coords, [site.specie.symbol for site in s],
                            structure_id(group, index))
                if min_distance(c) < MIN_DISTANCE:
                    rejected[f"atoms closer than {MIN_DISTANCE} Å"] += 1
                    continue
                row = record(c, "offline-pyxtal", {"requested_group": group})
            except Exception as exc:
                rejected[type(exc).__name__] += 1
                continue
            return row, rejected, timed_out
        return None, rejected, timed_out


def _task(args):
    group, index, seed, max_atoms, timeout_s, attempts, pinned = args
    row, rej, timed_out = generate_one(group, index, seed, max_atoms, timeout_s, attempts, pinned)
    return group, index, row, rej, timed_out


def requested_groups(profile: Profile) -> list[int]:
    """The space groups the offline corpus asks PyXtal for: every ``group_stride``-th from 1.

    Args:
        profile: the run profile (its ``xrd.group_stride``).

    Returns:
        The space-group numbers, ascending.
    """
    return list(range(1, 231, profile.xrd.group_stride))


def corpus_path(profile: Profile, source: str = "offline") -> Path:
    """Where the structure corpus of a profile is cached, named by the content key of its settings.

    Args:
        profile: the run profile (seed and ``xrd`` settings).
        source: the structure source (``"offline"``).

    Returns:
        The ``.json.gz`` path under ``paths.CORPORA``.
    """
    name = _settings_name(profile, source)
    pinned = pinned_timeouts(profile, source)
    if pinned is not None:      # the replayed record is part of what the corpus is
        name += "-pinned-" + storage.content_key(pinned, PIN_SLACK)
    return paths.CORPORA / f"{name}.json.gz"


def _settings_name(profile: Profile, source: str) -> str:
    X = profile.xrd
    key = storage.content_key(GENERATOR_VERSION, source, profile.seed, X.per_group,
                              X.group_stride, X.max_atoms, X.attempts, SYMPREC,
                              X.attempt_timeout_s, parallel.TIME_LIMIT_CLOCK)
    return f"xrd-{source}-{profile.name}-{key}"


def _read_ledger(path: Path) -> dict:
    if not path.exists():
        return {}
    ledger = storage.read_json_object(path, "timeout ledger")
    for name, entry in ledger.items():
        if not isinstance(entry, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(a, int) and a >= 0 for a in v)
                for k, v in entry.items()):
            raise ValueError(f"{paths.relative(path)}: entry {name!r} must map structure ids to lists of "
                             "attempt numbers (integers >= 0)")
    return ledger


def pinned_timeouts(profile: Profile, source: str = "offline", ledger: Path | None = None) -> dict | None:
    """The committed record of the attempts a reference build of this profile's corpus abandoned
    for time (structure id -> attempt numbers), or None when the profile has none.

    Args:
        profile: the run profile.
        source: the structure source.
        ledger: the ledger file; None for ``TIMEOUT_LEDGER``.

    Returns:
        The record (``{}`` when the reference build abandoned nothing), or None.

    Raises:
        ValueError: when the ledger is malformed (naming the file and the entry).
    """
    return _read_ledger(Path(ledger or TIMEOUT_LEDGER)).get(_settings_name(profile, source))


def pin_timeouts(profile: Profile, source: str = "offline", ledger: Path | None = None) -> Path:
    """Record the built corpus's abandoned attempts in the ledger, so that every later build of this
    profile replays them (and so holds the same structures on any machine).

    Args:
        profile: the run profile (its corpus must be built, unpinned).
        source: the structure source.
        ledger: the ledger file to add the entry to (written atomically); None for
            ``TIMEOUT_LEDGER`` (the profile's builds replay it only from there).

    Returns:
        The corpus path the profile's builds now use; with the repository's ledger the built
        corpus is stored there at once (a replay on this machine gives it by construction).

    Raises:
        FileNotFoundError: when the corpus is not built.
        ValueError: when the profile is pinned already, or its corpus predates the record of
            abandoned attempts.
    """
    ledger = Path(ledger or TIMEOUT_LEDGER)
    if pinned_timeouts(profile, source, ledger) is not None:
        raise ValueError(f"the {profile.name} corpus is pinned already in {paths.relative(Path(ledger))}")
    summary = structures_summary(profile, source)
    if "timed_out" not in summary:
        raise ValueError(f"{paths.relative(storage.summary_path(corpus_path(profile, source)))} has no record "
                         "of abandoned attempts (built before it was kept): rebuild with force=True first")
    built = corpus_path(profile, source)
    entries = _read_ledger(ledger)
    entries[_settings_name(profile, source)] = {k: sorted(v) for k, v in sorted(summary["timed_out"].items())}
    storage.write_json(ledger, entries)
    if Path(ledger) != TIMEOUT_LEDGER:
        return built
    # a replay on this machine gives this corpus by construction: stored under the pinned name
    # rather than built again
    pinned = corpus_path(profile, source)
    data = storage.read_json_object(built, "corpus")
    summary = dict(summary, pinned=True, diverged={})
    storage.write_json(pinned, {"rows": data["rows"], "summary": summary}, gz=True)
    storage.write_json(storage.summary_path(pinned), summary)
    return pinned


def load_structures(profile: Profile, source: str = "offline", cif_dir: str | Path | None = None,
                    force: bool = False, verbose: bool = True) -> pd.DataFrame:
    """The structure table (one row per crystal, with its split), built once and cached.

    The offline corpus is built in parallel, one part file per space group, and resumes after an
    interruption; an unreadable cache is rebuilt. A CIF folder is read afresh every time.

    Args:
        profile: the run profile (seed, workers and ``xrd`` settings).
        source: ``"offline"`` (PyXtal random crystals) or ``"cif_dir"`` (a folder of CIFs).
        cif_dir: the folder of CIF files, for ``source="cif_dir"``.
        force: rebuild the offline corpus even when it is cached.
        verbose: print progress and a summary.

    Returns:
        A DataFrame of ``record`` rows (offline: also ``requested_group``) with a ``split`` column
        (``with_split``), sorted by id for the offline corpus.

    Raises:
        ValueError: for an unknown source, or ``cif_dir`` without a folder.
        FileNotFoundError: when ``cif_dir`` is not a folder.
        CrystalError: when the CIF folder holds no usable structure.
    """
    if source == "cif_dir":
        if cif_dir is None:
            raise ValueError("source 'cif_dir' needs cif_dir=<folder of CIF files>")
        table, _ = read_cif_dir(cif_dir, verbose=verbose)
        return with_split(table, profile)
    if source != "offline":
        raise ValueError(f"unknown structure source {source!r}: use 'offline' or 'cif_dir'")
    path = corpus_path(profile, source)
    if path.exists() and not force:
        try:
            return with_split(pd.DataFrame(storage.read_json_object(path, "corpus")["rows"]), profile)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"{paths.relative(path)} is unreadable ({exc}); rebuilding it")
    X = profile.xrd
    pinned = pinned_timeouts(profile, source)
    groups = {f"group-{g:03d}.json": g for g in requested_groups(profile)}
    bar = parallel.progress(len(groups) * X.per_group, "XRD structures") if verbose else None

    def build(todo):
        # one task per structure, groups in order, so that every worker stays busy across
        # groups; a group's block is handed over when its last structure arrives
        tasks = [(groups[name], i, profile.seed, X.max_atoms, X.attempt_timeout_s, X.attempts,
                  None if pinned is None else pinned.get(structure_id(groups[name], i), []))
                 for name in todo for i in range(X.per_group)]
        pending: dict = {groups[name]: [] for name in todo}
        for g, i, row, rej, timed_out in parallel.imap(_task, tasks, profile.workers, ordered=True):
            pending[g].append((i, row, dict(rej), timed_out))
            if bar is not None:
                bar.update(1)
            if len(pending[g]) == X.per_group:
                done = pending.pop(g)
                yield f"group-{g:03d}.json", {
                    "rows": [r for _, r, _, _ in done if r is not None],
                    "skipped": [[structure_id(g, j), f"no valid structure in {X.attempts} attempts"]
                                for j, r, _, _ in done if r is None],
                    "rejected": sum((Counter(x) for _, _, x, _ in done), Counter()),
                    "timed_out": {structure_id(g, j): t for j, _, _, t in done if t}}

    blocks, parts = storage.build_in_parts(path, dict.fromkeys(groups, X.per_group), build, force, bar)
    if bar is not None:
        bar.close()
    rows = [r for b in blocks for r in b["rows"]]
    skipped = [x for b in blocks for x in b["skipped"]]
    rejected = sum((Counter(b["rejected"]) for b in blocks), Counter())
    timed_out = {k: v for b in blocks for k, v in sorted(b.get("timed_out", {}).items())}
    rows.sort(key=lambda r: r["id"])
    summary = {"requested": len(groups) * X.per_group, "kept": len(rows), "skipped": skipped,
               "rejected_attempts": dict(sorted(rejected.items())), "timed_out": timed_out,
               "pinned": pinned is not None,
               # attempts this build abandoned that the reference build finished: the corpus
               # differs from the reference's
               "diverged": {} if pinned is None else {k: d for k, v in timed_out.items()
                                                      if (d := [a for a in v if a not in pinned.get(k, [])])}}
    storage.write_corpus(path, rows, summary, parts)
    if verbose:
        print(f"XRD structures: {len(rows)} of {summary['requested']} generated, "
              f"{len(skipped)} skipped")
    if summary["diverged"]:
        print(f"warning: {len(summary['diverged'])} structures ran out of time here although the reference "
              f"build finished them (even with {PIN_SLACK:g} times the limit): this corpus differs from the "
              f"reference's ({', '.join(list(summary['diverged'])[:3])})")
    elif pinned is None and verbose and timed_out:
        print(f"{sum(map(len, timed_out.values()))} attempts ran out of time; which ones depends on the "
              "machine, so another machine may hold other structures: corpus.pin_timeouts(profile) records them")
    return with_split(pd.DataFrame(rows), profile)


def structures_summary(profile: Profile, source: str = "offline") -> dict:
    """The build summary stored beside a profile's offline corpus.

    Args:
        profile: the run profile.
        source: the structure source (``"offline"``).

    Returns:
        A dict: ``requested`` and ``kept`` (numbers of structures), ``skipped`` ([id, reason]
        pairs), ``rejected_attempts`` (reason -> count), ``timed_out`` (id -> the attempts
        abandoned for time), ``pinned`` (whether a ledger was replayed) and ``diverged`` (id ->
        attempts that ran out of time here but not in the replayed reference build).

    Raises:
        FileNotFoundError: when the corpus has not been built.
    """
    return storage.read_json(storage.summary_path(corpus_path(profile, source)))


def with_split(table: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Split a structure table into train / val / test per space group (70/20/10 in the paper), seeded.

    A group of 3 or more structures gets at least one test structure; a group with fewer than 3
    structures has no val: one structure goes to train, a second (when there is one) to test.

    Args:
        table: structure table with a ``space_group`` column.
        profile: the run profile (its seed and ``xrd.split`` fractions train, val, test).

    Returns:
        A copy of ``table`` (index reset) with a ``split`` column of ``"train"``, ``"val"`` or
        ``"test"``.
    """
    table = table.reset_index(drop=True).copy()
    fr = np.asarray(profile.xrd.split, dtype=float)
    split = np.empty(len(table), dtype=object)
    rng = np.random.default_rng([profile.seed, 4242])
    for sg, idx in table.groupby("space_group").indices.items():
        idx = np.sort(idx)
        idx = idx[rng.permutation(len(idx))]
        n = len(idx)
        n_test = int(round(n * fr[2])) if n >= 3 else (1 if n == 2 else 0)
        n_val = int(round(n * fr[1])) if n >= 3 else 0
        n_test = max(n_test, 1) if n >= 3 else n_test
        split[idx[:n_test]] = "test"
        split[idx[n_test:n_test + n_val]] = "val"
        split[idx[n_test + n_val:]] = "train"
    table["split"] = split
    return table


# ------------------------------------------------------------------ CIF folders

def read_cif_dir(folder: str | Path, verbose: bool = True):
    """Read every *.cif in ``folder`` into a structure table, labelled with spglib.

    A CIF that does not parse, has partial occupancies or fails the checks of ``Crystal`` is
    skipped with its name and the reason; the first structure of each file is used.

    Args:
        folder: the folder of CIF files (not searched recursively).
        verbose: print how many were read and the first 20 skipped with their reasons.

    Returns:
        ``(table, skipped)``: a DataFrame of ``record`` rows (source ``"cif"``, id the file name)
        and a list of ``(file name, reason)`` pairs.

    Raises:
        FileNotFoundError: when ``folder`` is not a folder.
        CrystalError: when no file gives a usable structure (the message says why).
    """
    from pymatgen.io.cif import CifParser
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of CIF files")
    rows, skipped = [], []
    files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() == ".cif")
    for f in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                structs = CifParser(str(f)).parse_structures(primitive=False)
            if not structs:
                raise CrystalError("no structure in the file")
            c = Crystal.from_structure(structs[0], f.name)
            rows.append(record(c, "cif"))
        except CrystalError as exc:
            skipped.append((f.name, str(exc).removeprefix(f"{f.name}: ")))
        except Exception as exc:  # pymatgen raises many kinds on malformed CIFs
            skipped.append((f.name, f"does not parse ({type(exc).__name__}: {exc})"[:200]))
    if verbose:
        print(f"{folder}: {len(rows)} structures read, {len(skipped)} skipped")
        for name, why in skipped[:20]:
            print(f"  skipped {name}: {why}")
    if not rows:
        others = sorted({f.suffix.lower() or "(none)" for f in folder.iterdir() if f.is_file()} - {".cif"})
        detail = (f"all {len(files)} CIF files were skipped; the first: {skipped[0][0]}: {skipped[0][1]}"
                  if files else "it holds no *.cif file" + (f" (other suffixes: {', '.join(others)})"
                                                            if others else ""))
        raise CrystalError(f"{folder}: no usable structure ({detail})")
    return pd.DataFrame(rows), skipped


# ------------------------------------------------------------------ real structures

AFLOW_CITATION = ("M. J. Mehl et al., The AFLOW Library of Crystallographic Prototypes: Part 1, "
                  "Comput. Mater. Sci. 136, S1-S828 (2017); as shipped with pymatgen")


def aflow_prototypes() -> pd.DataFrame:
    """The AFLOW prototype structures that ship with pymatgen, labelled with spglib, each in its
    conventional standard cell (``conventional_cell``: most ship as primitive cells).

    Structures the simulator cannot use (e.g. partial occupancies) are left out silently.

    Returns:
        A DataFrame of ``record`` rows (source ``"aflow"``, id the AFLOW tag) with ``mineral`` (the
        name, or empty) and ``aflow_group`` (the space group the AFLOW tag states).
    """
    import pymatgen.analysis.prototypes as proto
    from pymatgen.core import Structure
    data = json.load(gzip.open(Path(proto.__file__).parent / "aflow_prototypes.json.gz"))
    rows = []
    for entry in data:
        s = Structure.from_dict(entry["snl"])
        tag = entry["tags"]["aflow"]
        try:
            c = conventional_cell(Crystal.from_structure(s, tag))
            rows.append(record(c, "aflow", {"mineral": entry["tags"].get("mineral", ""),
                                            "aflow_group": int(tag.split("_")[2])}))
        except (CrystalError, ValueError, IndexError):
            continue
    return pd.DataFrame(rows)


PACKAGE_CRYSTALS_CITATION = ("crystal structures that ship with pymatgen as test data (pymatgen/util/structures, "
                             "MIT licence; S. P. Ong et al., Comput. Mater. Sci. 68, 314-319 (2013))")
# a hypothetical cell (bcc helium) and an interface slab: not real bulk crystals
NOT_CRYSTALS = ("He_BCC", "Si_SiO2_Interface")


def package_crystals() -> pd.DataFrame:
    """Real crystals that ship inside pymatgen as test data, labelled with spglib, each with the AFLOW
    prototype it matches (pymatgen's ``AflowPrototypeMatcher``), so that a test can leave out the
    structure types seen in training.

    Structures with partial occupancies, and ``NOT_CRYSTALS``, are left out; each is stood in its
    conventional standard cell (``conventional_cell``).

    Returns:
        A DataFrame of ``record`` rows (source ``"pymatgen-test"``, id the file's name) with
        ``aflow_match`` (the matched AFLOW tag, or "").
    """
    import pymatgen.util
    from pymatgen.analysis.prototypes import AflowPrototypeMatcher
    from pymatgen.core import Structure
    folder = Path(pymatgen.util.__file__).parent / "structures"
    matcher = AflowPrototypeMatcher()
    rows = []
    for path in sorted(folder.glob("*.json")):
        if path.stem in NOT_CRYSTALS:
            continue
        s = Structure.from_file(path)
        if not s.is_ordered:
            continue
        try:
            c = conventional_cell(Crystal.from_structure(s, path.stem))
            match = matcher.get_prototypes(s) or []
            rows.append(record(c, "pymatgen-test", {"aflow_match": match[0]["tags"]["aflow"] if match else ""}))
        except (CrystalError, ValueError, IndexError):
            continue
    return pd.DataFrame(rows)
