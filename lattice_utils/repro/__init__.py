"""The reporting floor: which notebook writes which output, the papers' values beside ours, the
verdicts, the figures, the results page and what ``./run_all.sh publish`` copies. It reads what the
floors below produce; nothing below imports it.

- ``outputs``: the one registry of every table and figure and of the papers' numbered items: the
  notebook that writes each output, its kind, the papers' items it reproduces, the columns the report
  reads from it (``CHECKED``: a table written without one is refused), what it needs (the paper's
  data file, the snapshot's kept predictions) and which of its rows the README headline shows (by
  the row's identity, never by its label); who reproduces each numbered item (``CLAIMS``) or why
  none does, and the papers' short names (``cite``).
- ``verdicts``: intervals a referee accepts (t over seeds, the prediction interval for one more run,
  Clopper-Pearson for a rate), the three-way verdict and the digits an interval supports; no I/O.
- ``prediction_stats``: what kept per-image predictions give without retraining (confusion over
  seeds, bootstrap over test images, McNemar, the seed ensemble, the symmetric-copy average's gain,
  each copy on its own);
  no I/O.
- ``report``: tables written as CSV + Markdown under ``reports/tables/``, paper values beside ours;
  ``NotebookRun`` stamps the profile, data source and commit on every table and figure caption a
  notebook writes.
- ``plots``: the ``save_figure`` helper and the plotting functions the notebooks share.
- ``reproduction``: the reproduction report: every paper value beside ours, with the difference, the
  tolerance or intervals and a status; the summary by kind of evidence; the README's headline table.
- ``publish``: the results page of a run (every figure and table each notebook wrote, in notebook
  order, with its profile, data source and run time; each executed notebook with its outputs), built
  by notebook 99 into ``reports/site/``; ``./run_all.sh publish`` copies it into ``docs/`` and the
  headline into ``README.md``; with ``--benchmarks``, writes ``docs/performance.md``.
- ``benchmark_results``: what each script in ``benchmarks/`` records (tables, command, date, commit,
  machine) and the performance page written from those records.
- ``package_map``: the module list of ``docs/design.md``, written from these docstrings.
- ``plan``: ``./run_all.sh --profile paper --plan``: what a profile would run and how long it should
  take on CPU and GPU, without running.
"""

__all__ = ["outputs", "verdicts", "prediction_stats", "report", "plots", "reproduction",
           "publish", "benchmark_results", "package_map", "plan"]
