"""Related methods (notebooks 16-18), each on a simulated specimen with a known ground truth: a
specimen module (simulation and truth), a method module (the analysis, which imports no
simulation) and a study module that joins them for its notebook.

- ``wse2``: the WSe₂ layer both sides of notebook 16 use: the W-W spacing, the chalcogen-column
  classes, the hexagonal sites.
- ``defect_specimen``: notebook 16's simulated WSe₂₋₂ₓTe₂ₓ specimen with defects and known
  displacement fields; detections scored against its truth.
- ``defects``: notebook 16's method: defects from class probabilities, isolated windows,
  registration, W-W spacings, SNR, bootstraps, displacements, dilation maps, the Eshelby fit.
- ``defect_study``: notebook 16 as functions: the finder's training set, train the defect finder,
  survey the images, build the class-average stacks.
- ``unet``: a small ResUNet for per-pixel classification (notebooks 16 and 17), cached by content
  key.
- ``phases``: notebook 17's candidate phases: structures, zone axes, d-spacings, plane families.
- ``nanoparticles``: notebook 17's simulated nanoparticle specimen and the true reflections of every
  particle and window.
- ``fft_windows``: notebook 17's method: spacings and interplanar angles from the FFT spots of
  moving windows, both spot finders, phase matching and indexing.
- ``fft_study``: notebook 17 as functions: the spot-binarising network and its training windows, the
  moving-window survey scored against the truth, phase identification.
- ``heterojunction``: notebook 18's simulated 4D-STEM scan of a WS₂-WSe₂ heterojunction with its
  ground truth.
- ``fourdstem``: notebook 18's method: central-beam alignment, feature selection, the divisive
  hierarchical K-means, virtual images, accuracies.
"""

__all__ = ["wse2", "defect_specimen", "defects", "defect_study", "unet", "phases", "nanoparticles", "fft_windows",
           "fft_study", "heterojunction", "fourdstem"]
