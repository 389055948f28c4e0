"""Related methods (notebooks 16-18): defect class averaging, moving-window FFT lattice spacing,
4D-STEM hierarchical clustering. Each builds a simulated specimen with a known ground truth."""
