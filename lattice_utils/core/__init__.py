"""The ground floor: where things live, which settings a run uses, how files are written and
where a result came from. Imports nothing else of the package.

- ``paths``: project-relative paths, the only place that knows where things live
  (``LATTICE_DATA_DIR`` moves the data).
- ``profiles``: the single source of truth for the smoke / quick / paper sizes, seeds and settings,
  and the paper's own settings (``STEM_IMAGE_PX``, ``STEM_PX_SCALE``, ``NETWORK_INPUT_PX``, ...)
  that the defaults of ``StemParams``, ``TrainConfig`` and ``predict`` read.
- ``storage``: atomic writes, content keys and safe loading (``load_torch`` with
  ``weights_only=True``).
- ``parallel``: one way to fan work out over processes, used by every batch build.
- ``compat``: ``import torchvision`` next to a CPU-only torch (declares the two missing operator
  schemas).
- ``provenance``: the commit of the checkout that wrote a result, and whether its tracked files had
  changes.
"""

__all__ = ["paths", "profiles", "storage", "parallel", "compat", "provenance"]
