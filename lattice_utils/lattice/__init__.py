"""2D lattices from geometry and from images, free of simulation and learning.

- ``lattice2d``: 2D lattice geometry: orientation, a / b / γ, the paper's label, the reduced cell,
  the class fixed by the layer's symmetry, and the distortion from each class.
- ``fft_lattice``: the physics-based estimator: a, b, γ, the Bravais class and their uncertainties
  from the FFT of an image.
- ``grains``: the FFT estimator in overlapping windows, grouped into grains, a lattice per grain.
"""

__all__ = ["lattice2d", "fft_lattice", "grains"]
