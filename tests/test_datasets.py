"""Class mix, splits, the offline corpus and the chunked image store."""
from __future__ import annotations

import os

import numpy as np
import pytest

from lattice_utils.core import paths, storage
from lattice_utils.core.profiles import PAPER_CLASS_TOTALS, class_counts, get_profile
from lattice_utils.data import datasets
from lattice_utils.data.offline_corpus import class_sequence, generate_block
from lattice_utils.repro.report import paper_values
from lattice_utils.simulate.stem import StemParams


@pytest.mark.parametrize("slot", ["jv2d", "c2db", "alex"])
def test_the_split_of_paper_sized_sets_gives_table_s3s_counts(slot):
    # AtomVision's rule, ceil(0.2 n) test images per class, gives the paper's C2DB and Alex-PBE
    # counts exactly (scikit-learn's stratified split missed two classes by one); for JV2D it gives
    # the STEM-JV2D zip's own split, where the paper prints one image fewer in classes 2 and 4
    labels = np.repeat(np.arange(5), PAPER_CLASS_TOTALS[slot])
    labels = np.random.default_rng(1).permutation(labels)
    is_test = datasets.per_class_split(labels, 0.2, seed=0)
    paper = paper_values("table_s3")
    ref = paper[(paper.dataset == slot) & (paper.split == "test")].sort_values("class")["count"].to_numpy()
    ours = np.bincount(labels[is_test], minlength=5)
    assert list(ours) == [int(np.ceil(0.2 * n)) for n in PAPER_CLASS_TOTALS[slot]]
    if slot == "jv2d":
        assert list(ours) == [92, 35, 66, 7, 17] and list(ours - ref) == [0, 0, 1, 0, 1]
    else:
        assert list(ours) == list(ref)
    sk = np.bincount(labels[datasets.stratified_split(labels, 0.2, seed=0)], minlength=5)
    assert slot == "jv2d" or list(sk) != list(ref)       # what the earlier rule gave


def test_the_per_class_split_is_seeded_and_keeps_a_lone_member_in_training():
    labels = np.array([0] * 10 + [1] * 5 + [4])
    a = datasets.per_class_split(labels, 0.2, seed=3)
    assert np.array_equal(a, datasets.per_class_split(labels, 0.2, seed=3))
    assert not np.array_equal(a, datasets.per_class_split(labels, 0.2, seed=4))
    assert not a[-1] and a[:10].sum() == 2 and a[10:15].sum() == 1


def test_split_is_seeded_and_handles_singleton_classes():
    labels = np.array([0] * 10 + [1] * 5 + [4])
    a = datasets.stratified_split(labels, 0.2, seed=3)
    assert np.array_equal(a, datasets.stratified_split(labels, 0.2, seed=3))
    assert not a[-1]                       # the single class-4 record stays in training
    assert a.sum() == 3                    # ceil(0.2 x 15)


def test_class_counts_scale_the_paper_mix():
    assert class_counts(1074, "jv2d") == list(PAPER_CLASS_TOTALS["jv2d"])
    small = class_counts(120, "alex")
    assert sum(small) == 120 and small[2] == max(small)


def test_offline_generation_is_deterministic_and_hits_targets():
    targets = class_sequence("c2db", 10, seed=0)
    rows1, skipped1, _ = generate_block("c2db", np.arange(10), targets, seed=0)
    rows2, _, _ = generate_block("c2db", np.arange(10), targets, seed=0)
    assert not skipped1
    assert [r["atoms"] for r in rows1] == [r["atoms"] for r in rows2]
    assert [r["label"] for r in rows1] == list(targets)
    for r in rows1:
        lat = np.array(r["atoms"]["lattice_mat"])
        assert np.allclose(lat[:2, 2], 0) and np.allclose(lat[2, :2], 0)


def test_corpus_cache_and_resume(scratch_dirs):
    prof = get_profile("smoke")
    prof = type(prof)(**{**prof.as_dict(), "corpus_sizes": {"jv2d": 12}, "workers": 1})
    t1 = datasets.load_corpus("jv2d", prof, block_size=5, verbose=False)
    path = datasets.corpus_path("jv2d", prof, "offline")
    assert path.exists() and len(t1) == 12
    mtime = path.stat().st_mtime_ns
    t2 = datasets.load_corpus("jv2d", prof, block_size=5, verbose=False)
    assert path.stat().st_mtime_ns == mtime and t1.equals(t2)
    summary = datasets.corpus_summary("jv2d", prof)
    assert summary == storage.read_json(path)["summary"] and summary["kept"] == 12
    storage.summary_path(path).unlink()               # cache from before the sidecar
    datasets.load_corpus("jv2d", prof, block_size=5, verbose=False)
    assert datasets.corpus_summary("jv2d", prof) == summary
    path.write_bytes(path.read_bytes()[:100])          # truncated cache -> rebuilt
    t3 = datasets.load_corpus("jv2d", prof, block_size=5, verbose=False)
    assert list(t3["id"]) == list(t1["id"])


def test_image_store_roundtrip_truncation_and_resume(scratch_dirs, graphene, fese):
    import pandas as pd
    from jarvis.core.atoms import Atoms

    from lattice_utils.data.structures import normalise_record
    from lattice_utils.simulate.stem import simulate_stem_image, to_uint8

    params = StemParams(image_px=64)
    table = pd.DataFrame([normalise_record(f"s{i}", s, "test")
                          for i, s in enumerate([graphene, fese, graphene, fese, graphene])])
    store = datasets.build_image_store("t", table, params, chunk_size=2, workers=1, verbose=False)
    assert len(store) == 5 and store.n_chunks() == 3 and store.verify()
    direct = to_uint8(simulate_stem_image(Atoms.from_dict(table.loc[3, "atoms"]), params))
    assert np.array_equal(store[3], direct)
    chunk0, chunk1 = store.root / "chunk-00000.npy", store.root / "chunk-00001.npy"
    before = chunk0.stat().st_mtime_ns
    chunk1.write_bytes(chunk1.read_bytes()[:300])      # interrupted write / truncated file
    assert storage.load_npy_checked(chunk1, (64, 64), np.uint8) is None
    assert not datasets.ImageStore(store.root).verify()
    store2 = datasets.build_image_store("t", table, params, chunk_size=2, workers=1, verbose=False)
    assert store2.verify() and np.array_equal(store2[3], direct)
    assert chunk0.stat().st_mtime_ns == before        # complete chunks are not redone
    assert not any(p.name.endswith(".tmp") for p in store.root.iterdir())


def test_the_image_store_key_sees_every_site_s_element(graphene):
    # the same cell and coordinates with one carbon made boron image differently (Z contrast):
    # a store keyed on the geometry alone would hand back the carbon images
    import copy

    import pandas as pd

    from lattice_utils.data.structures import normalise_record

    rec = normalise_record("g", graphene, "test")
    boron = copy.deepcopy(rec)
    boron["atoms"]["elements"] = ["B"] + list(rec["atoms"]["elements"][1:])
    params = StemParams(image_px=64)
    keys = {datasets.store_dir("t", pd.DataFrame([r]), params, 2) for r in (rec, boron)}
    assert len(keys) == 2
    assert datasets.store_dir("t", pd.DataFrame([copy.deepcopy(rec)]), params, 2) in keys
    # what is not imaged is not in the key (a jarvis release that adds a derived field keeps the stores)
    extra = copy.deepcopy(rec)
    extra["atoms"]["props"] = ["x"] * len(rec["atoms"]["elements"])
    assert datasets.store_dir("t", pd.DataFrame([extra]), params, 2) in keys


def test_the_array_key_sees_every_value_its_shape_and_dtype():
    # the MLP heads' cache was keyed on the sum of the first 64 feature rows: a change further
    # down the feature matrix (another image of the same slot) reused a stale fit
    feats = np.random.default_rng(0).random((100, 8)).astype(np.float32)
    later = feats.copy()
    later[80, 3] += 1.0
    assert storage.array_key(feats) != storage.array_key(later)
    assert storage.array_key(feats) == storage.array_key(feats.copy())
    assert storage.array_key(feats) != storage.array_key(feats.astype(np.float64))
    assert storage.array_key(feats) != storage.array_key(feats.reshape(200, 4))
    assert storage.array_key(feats.T) == storage.array_key(np.ascontiguousarray(feats.T))
    assert storage.array_key(np.float64(1.5)) != storage.array_key([1.5])      # a scalar is not [x]
    with pytest.raises(TypeError, match="Python objects"):
        storage.array_key(np.array([{"a": 1}], dtype=object))


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "x.json"
    storage.write_json(target, {"a": 1})

    class Boom(Exception):
        pass

    def bad(fh):
        fh.write(b"partial")
        raise Boom()

    with pytest.raises(Boom):
        storage._atomic(target, bad)
    assert storage.read_json(target) == {"a": 1}
    assert os.listdir(tmp_path) == ["x.json"]


def _square(x):
    return x * x


def test_parallel_imap_matches_inline_and_keeps_order():
    from lattice_utils.core import parallel

    tasks = list(range(13))
    assert list(parallel.imap(_square, tasks, workers=1)) == [t * t for t in tasks]
    assert list(parallel.imap(_square, tasks, workers=2, chunksize=3)) == [t * t for t in tasks]
    assert sorted(parallel.imap(_square, tasks, workers=2, ordered=False)) == [t * t for t in tasks]
    assert parallel.resolve_workers(0) >= 1


def test_per_record_rotation_and_pixel_size_are_imaged(scratch_dirs, graphene):
    import pandas as pd

    from lattice_utils.data import datasets
    from lattice_utils.data.structures import normalise_record
    from lattice_utils.lattice import fft_lattice
    from lattice_utils.simulate.stem import StemParams

    rec = normalise_record("g", graphene, "test")
    table = pd.DataFrame([rec, rec, rec]).assign(id=["g0", "g1", "g2"], rot=[0.0, 30.0, 0.0],
                                                  px_scale=[0.1, 0.1, 0.11])
    params = StemParams(image_px=128)
    store = datasets.build_image_store("t", table, params, chunk_size=2, workers=1, verbose=False)
    plain = datasets.build_image_store("t", table.drop(columns=["rot", "px_scale"]), params,
                                       chunk_size=2, workers=1, verbose=False)
    assert store.root != plain.root                      # the transforms are part of the key
    e0, e1, e2 = (fft_lattice.estimate_lattice(store[i].astype(float), 0.1) for i in range(3))
    assert e0.a == pytest.approx(2.46, abs=0.01) and e1.a == pytest.approx(2.46, abs=0.01)
    assert abs((e1.orientation_deg - e0.orientation_deg + 30) % 60 - 30) == pytest.approx(30, abs=0.5)
    # imaged with 0.11 A pixels but read as 0.1: the lattice looks 10 % smaller
    assert e2.a == pytest.approx(2.46 / 1.1, abs=0.01)


def _busy(seconds):
    import time

    t0 = time.process_time()
    while time.process_time() - t0 < seconds:
        pass


def test_time_limit_abandons_an_attempt_after_its_cpu_seconds():
    from lattice_utils.core import parallel
    with pytest.raises(parallel.AttemptTimeout):
        with parallel.time_limit(0.05):
            _busy(2)
    with parallel.time_limit(0):                   # no limit
        _busy(0.06)
    with parallel.time_limit(1.0):                 # the timer is cleared on leaving the block
        pass
    _busy(1.1)


def test_time_limit_is_not_cut_short_by_a_busy_machine():
    """Waiting (for the CPU, or here for a sleep) is not counted: a loaded machine abandons the
    same attempts as an idle one, so a corpus does not depend on what else runs."""
    import time

    from lattice_utils.core import parallel
    with parallel.time_limit(0.05):
        time.sleep(0.3)
        _busy(0.01)


XRD_FIRST_CALL = """
import json, sys
from lattice_utils.xrd import corpus
first = corpus.generate_one(11, 0, 0, 60, timeout_s=1.0, attempts=4)
again = corpus.generate_one(11, 0, 0, 60, timeout_s=1.0, attempts=4)
print(json.dumps([first[0] is not None, dict(first[1]), first == again]))
"""


@pytest.mark.slow
def test_first_xrd_structure_of_a_process_is_the_same_as_any_other():
    """The first structure a worker builds pays one-time imports; they are outside the attempt's
    limit, so the structure does not depend on which worker drew it (two smoke runs differed)."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", XRD_FIRST_CALL], capture_output=True, text=True,
                         timeout=300, cwd=str(paths.ROOT))
    assert out.returncode == 0, out.stderr[-2000:]
    built, rejected, same = json.loads(out.stdout.strip().splitlines()[-1])
    assert built and same, rejected
    assert "PyXtal attempt timed out" not in rejected


def test_build_in_parts_resumes_reuses_only_its_own_parts_and_keeps_corpus_order(tmp_path):
    from lattice_utils.core import storage

    path = tmp_path / "c.json.gz"
    expected = {"p0.json": 2, "p1.json": 1, "p2.json": 2}
    made = []

    def build(todo, stop_after=None):
        for k, name in enumerate(reversed(todo)):          # any order
            if stop_after is not None and k == stop_after:
                raise KeyboardInterrupt
            made.append(name)
            yield name, {"rows": [{"id": f"{name}-{i}"} for i in range(expected[name])], "skipped": [],
                         "rejected": {"x": 1}}

    with pytest.raises(KeyboardInterrupt):
        storage.build_in_parts(path, expected, lambda todo: build(todo, stop_after=1))
    assert made == ["p2.json"]
    parts = tmp_path / ".parts-c"
    (parts / "p1.json").write_text('{"part": "p1.json", "corpus": "other.json.gz", "rows": [{}], "skipped": []}')
    made.clear()
    blocks, got = storage.build_in_parts(path, expected, build)
    assert made == ["p1.json", "p0.json"] and got == parts                  # p2 reused, p1's foreign part redone
    assert [r["id"] for b in blocks for r in b["rows"]] == ["p0.json-0", "p0.json-1", "p1.json-0",
                                                            "p2.json-0", "p2.json-1"]
    (parts / "p0.json").write_bytes((parts / "p0.json").read_bytes()[:20])   # truncated
    made.clear()
    storage.build_in_parts(path, expected, build)
    assert made == ["p0.json"]
    with pytest.raises(RuntimeError, match="no block for p0.json"):
        storage.build_in_parts(path, expected, lambda todo: iter(()), force=True)
