"""Synthetic single-crystal 2D X-ray diffraction along zone axes (notebooks 09-13).

- ``simulate``: zero-order Laue zone reflections, structure factors, spot rendering, 1D powder.
- ``axes``: the zone-axis sets of the paper and their angular coverage.
- ``symmetry``: crystal systems, centrosymmetry from the symmetry operations, enantiomorphs.
- ``corpus``: crystal structures (PyXtal random crystals offline; any CIF folder; AFLOW prototypes).
- ``patterns``: memory-bounded storage of spot lists, rendered to images on demand.
- ``model``: the paper's CNN (two heads: 230 space groups, 7 crystal systems) and its training.
"""
