"""Shared, tested logic behind the notebooks, in floors: each subpackage imports only those
below it (a contract the test suite checks, ``tests/test_layers.py``).

- ``core``: paths, profiles, atomic storage, provenance (imports nothing of the package).
- ``lattice``: 2D lattice geometry and the FFT lattice estimator.
- ``simulate``: ADF-STEM images and the ways real images differ from them.
- ``data``: the paper's data sets and the offline stand-ins, as tables and image stores.
- ``learn``: the networks, one fitting loop, the metrics.
- ``studies``, ``xrd``, ``related``: the papers' studies (independent of one another).
- ``repro``: the outputs registry, verdicts, figures, the report and what publish copies.
- ``predict``: a user's image to a, b, gamma and the Bravais class (``python -m lattice_utils``).
"""
__version__ = "0.1.0"

__all__ = ["core", "lattice", "simulate", "data", "learn", "studies", "xrd", "related", "repro", "predict"]
