"""2D lattices from geometry and from images, free of simulation and learning.

- ``lattice2d``: 2D lattice geometry: orientation, a / b / γ, the paper's label, the reduced cell,
  the class fixed by the layer's symmetry, and the distortion from each class.
- ``fft_lattice``: the physics-based estimator: a, b, γ, the Bravais class and their uncertainties
  from the FFT of an image.
- ``scan_distortion``: the scan distortion measured on lattices (grains of one frame, a reference
  of known cell, an orthogonal scan pair) and removed from a fitted basis.
- ``grains``: the FFT estimator in overlapping windows, grouped into grains, a lattice per grain;
  two or more grains measure the frame's scan distortion.
- ``scan_correction``: the scan distortion measured on images: calibration from a reference frame,
  an orthogonal pair, an image resampled without it.
"""

__all__ = ["lattice2d", "scan_distortion", "fft_lattice", "grains", "scan_correction"]
