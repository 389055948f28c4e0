"""Every data set the notebooks read: the paper's own where its file is present, else the offline
stand-in, normalised into one table and cached as chunked image stores.

- ``sources``: which data a notebook uses (``data_source`` auto / paper / offline): the paper's
  files where present in ``data/raw/``, else the offline stand-in; lists the paper files with place
  and URL.
- ``structures``: the paper's structure databases through jarvis-tools, normalised into one table
  (id, formula, band gap, atoms, a, b, γ and the labels).
- ``prototypes``: monolayers from known 2D prototypes decorated with compatible elements, the cell
  rescaled by covalent radii (the library: ``monolayer_prototypes.json``, with references).
- ``layer_groups``: monolayers drawn at random in the 80 layer groups with the library's chemistry,
  scaled to covalent bond lengths and kept only as a connected layer; a share of the stand-in.
- ``offline_corpus``: the offline stand-in for the three databases, built from the prototypes with
  the paper's Table S3 class mix; byte-identical at any load.
- ``datasets``: corpora, the per-class 80/20 split and chunked STEM image stores, cached and
  resumable; the one resizing of network inputs.
- ``image_sets``: the paper's own STEM image sets (AtomVision's STEM-JV2D, STEM-C2DB): download, CRC
  check, cropping of the drawn square, the set's own split.
- ``real_images``: readers for real microscope images with calibrated pixel sizes (.dm3/.dm4, .emd,
  TIFF, PNG/JPEG, .npy), the metadata sidecar, and the temul-toolkit MoS₂ and Au images.
- ``calibration``: scan calibration files (the distortion measured on a reference frame): written,
  read back with every field checked, refused for an image of another pixel size or frame size.
"""

__all__ = ["sources", "structures", "prototypes", "layer_groups", "offline_corpus", "datasets", "image_sets",
           "real_images", "calibration"]
