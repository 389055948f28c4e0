"""Synthetic single-crystal 2D X-ray diffraction along zone axes (the XRD paper; notebooks 09-13).

- ``simulate``: kinematic zero-order-Laue-zone spot patterns along [uvw] (Cu Kα, structure factors,
  rendering, polar rendering) and the 1D powder pattern.
- ``zone_axes``: the zone-axis sets of the XRD paper (Table 1) and their angular coverage.
- ``symmetry``: crystal systems, centrosymmetry, enantiomorphic pairs and lattice centring of the
  230 space groups, from spglib's symmetry operations.
- ``corpus``: crystal structures labelled by the space group spglib finds: PyXtal random crystals, a
  folder of CIFs, or the AFLOW prototypes; the attempts a build abandoned for time, pinned per profile.
- ``prototype_corpus``: real structure types: the AFLOW prototypes decorated with elements of similar
  electronegativity and size (space group kept), and a train / val / test split by prototype.
- ``structure_types``: model-4 trained on PyXtal crystals, on real structure types or on both, scored on
  structure types held out by prototype.
- ``pattern_symmetry``: the 2D point group of a zone-axis pattern and the crystal systems it admits (the
  physics ceiling of one pattern).
- ``learning_curve``: model-4 and the feature classifier against training structures per space group
  (a separate, resumable run of hours).
- ``perturb``: perturbed crystals for notebook 13: strain, substitution, depletion towards b.c.c. /
  f.c.c..
- ``patterns``: memory-bounded storage of patterns as spot lists, rendered to images on demand.
- ``features``: the reference classifier: physical features of a spot pattern and gradient-boosted
  trees.
- ``model``: the XRD paper's CNN (230 space groups, 7 crystal systems), its training, evaluation and
  measures.
- ``studies``: the XRD studies of notebooks 09-13 as small functions.
"""

__all__ = ["simulate", "zone_axes", "symmetry", "corpus", "prototype_corpus", "structure_types", "pattern_symmetry",
           "learning_curve", "perturb", "patterns", "features", "model", "studies"]
