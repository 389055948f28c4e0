"""A paper-settings retraining that spans sessions on machines that do not keep their files: its
snapshot is committed after every seed, and until it is complete the report keeps reading the
complete snapshot it will replace, while ``paper_runs`` resumes from the one in progress."""
from __future__ import annotations

import pandas as pd

from lattice_utils.core import paths
from lattice_utils.studies import paper_runs
from lattice_utils.studies import snapshots as S
from test_reliability_storage import _per_seed, _runs, _snapshot_rows

KEY = ("stem_jv2d", "paper")


def _write(date, seeds_done, seeds_requested=(0, 1)):
    return paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed(list(seeds_done)), pd.DataFrame(),
                                     _runs(list(seeds_done)), date=date, seeds_requested=list(seeds_requested))


def _folders():
    return sorted(p.name for p in paths.SNAPSHOTS.iterdir())


def test_a_snapshot_in_progress_keeps_the_complete_one_the_report_reads(scratch_dirs):
    _write("2026-11-01", [0, 1])
    _write("2026-11-02", [0])                     # a retraining, one seed of two finished
    assert _folders() == ["2026-11-01-stem_jv2d-paper", "2026-11-02-stem_jv2d-paper"]
    # the runner resumes from what is in progress ...
    assert S.newest_snapshots()[KEY][0].name == "2026-11-02-stem_jv2d-paper"
    # ... the report, the notebooks and the snapshot figure read the complete one
    assert S.reported_snapshots()[KEY][0].name == "2026-11-01-stem_jv2d-paper"
    assert S.kept(*KEY).folder.name == "2026-11-01-stem_jv2d-paper"
    assert set(_snapshot_rows()["table"]) == {"snapshots/2026-11-01-stem_jv2d-paper"}


def test_the_next_day_in_progress_replaces_the_earlier_one_in_progress_only(scratch_dirs):
    _write("2026-11-01", [0, 1])
    _write("2026-11-02", [0])
    _write("2026-11-03", [0])                     # the next session, before its first seed finished
    assert _folders() == ["2026-11-01-stem_jv2d-paper", "2026-11-03-stem_jv2d-paper"]
    _write("2026-11-04", [0, 1])                  # complete: the older complete one goes
    assert _folders() == ["2026-11-04-stem_jv2d-paper"]
    assert S.reported_snapshots()[KEY][0].name == S.newest_snapshots()[KEY][0].name == "2026-11-04-stem_jv2d-paper"


def test_without_a_complete_snapshot_the_report_reads_the_one_in_progress(scratch_dirs):
    _write("2026-11-02", [0])
    assert S.reported_snapshots()[KEY][0].name == "2026-11-02-stem_jv2d-paper"
    assert not S.reported_snapshots()[KEY][1]["complete"]

