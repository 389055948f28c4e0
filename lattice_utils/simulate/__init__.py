"""Images with a known answer: ADF-STEM simulation and the ways real images differ from it.

- ``stem``: ADF-STEM images by the convolution approximation (the paper's section 2.1 settings).
- ``degrade``: degrades a simulated image like a real one: dose (shot noise), scan distortion,
  drift.
- ``columns``: atomic columns as images (convolution approximation, analytic probe, exact at
  sub-pixel positions) and back (2D Gaussian fits).
- ``hard_cases``: simulated real-image problems with known answers (grain boundaries, dopant
  clusters, scan distortion, contamination, low dose) for notebook 08 and the tests.
- ``image_set_style``: structures rendered the way AtomVision made the paper's STEM image sets
  (15 Å field, Z^1.4, a matplotlib figure saved as JPEG), for networks scored on those images.
"""

__all__ = ["stem", "degrade", "columns", "hard_cases", "image_set_style"]
