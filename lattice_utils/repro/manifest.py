"""Which notebook reproduces which numbered figure and table of the papers, and the outputs each
notebook writes. The test suite checks that every numbered item of the papers is claimed or
listed as not reproduced (with the reason), and that the smoke run writes every claimed output."""
from __future__ import annotations

import pandas as pd

from ..studies import snapshots
from .outputs import BY_NAME, KEPT_PREDICTIONS, OUTPUTS, PAPER_DATA, SEPARATE_RUN

__all__ = ["DOCUMENTS", "SHORT_NAMES", "PAPER_ITEMS", "CLAIMS", "NOT_REPRODUCED", "REPORT_OUTPUTS",
           "NEEDS_PAPER_DATA", "NEEDS_KEPT_PREDICTIONS", "NEEDS_SEPARATE_RUN", "cite", "is_table", "expected_outputs",
           "kept_predictions_committed", "claimed_items", "items_table"]

DOCUMENTS = {
    "000": "Predicting lattice parameters from atomic-scale images of 2D materials (main paper)",
    "004": "Crystallographic classification from synthetic 2D X-ray diffraction (XRD paper)",
    "001": "Sub-picometre precision of single-atom defect strain fields (defect class averaging)",
    "002": "Deep learning-assisted analysis of HRTEM images of nanoparticles (ESI)",
    "003": "Divisive hierarchical K-means of 4D-STEM data",
}

# how the report, the README and the notebooks name each paper (docs/references.md): by short title
# and first author where the text gives it, never by the file number the code keys it by
SHORT_NAMES = {
    "000": "Chakrabarty et al. (main paper)",
    "004": "XRD zone-axis paper",
    "001": "defect class averaging (WSe2-2xTe2x)",
    "002": "Zhu et al. (HRTEM nanoparticles)",
    "003": "4D-STEM divisive K-means",
}



def cite(source: str) -> str:
    """A paper value's source as a reader should see it: "000 Table S1" becomes "Chakrabarty et al.
    (main paper), Table S1"; a source that starts with no document key is returned as it is.

    Args:
        source: a paper value's source, "<document key> <item>" ("000 Table S1"), or any text.

    Returns:
        The source with the document's short name (``SHORT_NAMES``) in place of its key; a bare
        key becomes the short name alone.
    """
    key, _, rest = str(source).partition(" ")
    return f"{SHORT_NAMES[key]}, {rest}" if key in SHORT_NAMES and rest else SHORT_NAMES.get(key, str(source))


# every numbered figure and table in the papers' texts (docs/references.md; SI tables of 000 are Table S1-S6)
PAPER_ITEMS = {
    "000": ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. S1", "Fig. S2", "Fig. S3", "Fig. S4", "Fig. S5", "Fig. S6", "Fig. S7",
            "Table 1", "Table 2", "Table S1", "Table S2", "Table S3", "Table S4", "Table S5", "Table S6"],
    "004": ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. 4", "Fig. 5", "Fig. 6", "Fig. 7", "Fig. 8", "Fig. 9", "Fig. 10",
            "Fig. 11", "Fig. 12", "Fig. 13", "Fig. A", "Fig. B", "Fig. C", "Fig. D", "Fig. E", "Fig. F", "Fig. J",
            "Fig. K", "Fig. V", "Table 1", "Table 2", "Table 3", "Table 4", "Table 5", "Table 6", "Table 7",
            "Table 8", "Table C", "Table D"],
    "001": ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. 4", "Fig. 5", "Fig. S1", "Fig. S2", "Fig. S3", "Fig. S4", "Fig. S5",
            "Fig. S6", "Fig. S7", "Fig. S11", "Table S1", "Table S2"],
    "002": ["Fig. S1", "Fig. S2", "Fig. S3", "Fig. S4"],
    "003": ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. 4", "Fig. 5"] + [f"Supplementary Fig. {k}" for k in range(1, 18)]
           + ["Supplementary Table 1"],
}


def _fig(*names):
    return [f"{n}.{ext}" for n in names for ext in ("png", "pdf")]


def _tab(*names):
    return [f"{n}.{ext}" for n in names for ext in ("csv", "md")]


# notebook -> {output name (no extension) -> the paper items it reproduces ("" for our own additions),
# from the one registry of outputs
CLAIMS = {}
for _o in OUTPUTS:
    CLAIMS.setdefault(_o.notebook_file, {})[_o.name] = _o.paper

NOT_REPRODUCED = {
    "004 Fig. 3": "a drawing of the CNN's architecture; the network itself is lattice_utils.xrd.model.XrdCNN",
    "004 Fig. A": "an illustration of how the 230 space groups fall into the seven crystal systems "
                  "(lattice_utils.xrd.symmetry)",
    "004 Fig. E": "model-1's 230 x 230 space-group confusion matrices are not drawn; "
                  "Table 2 gives its space-group accuracy",
    "004 Fig. J": "per-space-group accuracy of models 2-3 on every test set: only model-4 is drawn (Fig. 8)",
    "004 Fig. K": "per-space-group accuracy on the unseen axes is not drawn; Table 4 gives the totals",
    "004 Fig. V": "example pattern pairs of enantiomorphic / centrosymmetric counterparts: "
                  "notebook 11 checks that they are identical",
    "001 Fig. S1": "a drawing of the ResUNet (lattice_utils.related.unet.ResUNet)",
    "001 Fig. S11": "the same ResUNet drawing, cited as Figure S11 in the text",
    "001 Fig. S2": "the training crops are generated in code (defects.training_set), not shown",
    "001 Fig. S3": "training curves of the four FCNs; notebook 16 trains one five-class network and logs its loss",
    "001 Fig. S4": "a drawing of the bootstrap procedure",
    "001 Fig. S6": "strain and rotation components of the SV field: notebook 16 shows the dilation only",
    "001 Fig. S7": "DFT strain fields: no DFT here (the simulated truth stands in)",
    "001 Table S1": "the document's Computem simulation parameters: "
                    "ours are lattice_utils.related.defect_specimen.Conditions",
    "002 Fig. S1": "crystallinity against defocus needs a contrast-transfer model of HRTEM, "
                   "which the convolution images lack",
    "002 Fig. S3": "a drawing of the U-Net (ours: lattice_utils.related.unet.ResUNet)",
    "003 Fig. 3": "the WS2-WSe2 superlattice sample is not simulated (the heterojunction is)",
    "003 Fig. 4": "the silver nanoprism sample is not simulated",
    "003 Supplementary Fig. 6": "mean patterns of the clusters are not drawn",
    "003 Supplementary Fig. 7": "the interface defects of the experimental flake have no counterpart in the simulation",
    "003 Supplementary Fig. 8": "superlattice sample (not simulated)",
    "003 Supplementary Fig. 9": "superlattice sample (not simulated)",
    "003 Supplementary Fig. 10": "superlattice sample (not simulated)",
    "003 Supplementary Fig. 11": "nanoprism sample (not simulated)",
    "003 Supplementary Fig. 12": "nanoprism sample (not simulated)",
    "003 Supplementary Fig. 13": "InGaP/GaAs sample (not simulated)",
    "003 Supplementary Fig. 14": "InGaP/GaAs sample (not simulated)",
    "003 Supplementary Fig. 15": "InGaP/GaAs sample (not simulated)",
    "003 Supplementary Fig. 16": "PCA / UMAP as dimension reduction before clustering: not compared",
}


# notebook 99's own outputs (reports/site/reproduction.md and the table of every comparison): checked on their own
REPORT_OUTPUTS = {o.name for o in OUTPUTS if o.kind == "report"}
# written only when the paper's own data file is in data/raw/ (the smoke run has none)
NEEDS_PAPER_DATA = {o.name for o in OUTPUTS if o.needs == PAPER_DATA}
# written from the committed paper-settings snapshot's per-image predictions (every run writes them
# once the snapshot keeps them: ``kept_predictions_committed``)
NEEDS_KEPT_PREDICTIONS = {o.name for o in OUTPUTS if o.needs == KEPT_PREDICTIONS}
# written once a separate run of hours (the XRD learning curve) has finished some of its rows
NEEDS_SEPARATE_RUN = {o.name for o in OUTPUTS if o.needs == SEPARATE_RUN}


def is_table(name: str) -> bool:
    """Whether an output is a table (its kind in the registry; an unregistered name by its prefix).

    Args:
        name: the output's name, without extension.

    Returns:
        True for a table (an unregistered name: one starting ``table_``, ``labels_`` or ``corpus_``).
    """
    if name in BY_NAME:
        return BY_NAME[name].kind == "table"
    return name.startswith(("table_", "labels_", "corpus_"))


def expected_outputs(kept_predictions: bool | None = None) -> dict:
    """notebook -> {"figures": [...files], "tables": [...files]} that the smoke run must write.
    ``kept_predictions`` (default: whether the committed paper-settings snapshot keeps them): the
    outputs drawn from the snapshot's per-image predictions are expected too.

    Notebook 99's own outputs and those that need the paper's data file or a separate run are never
    expected.

    Args:
        kept_predictions: expect the outputs drawn from the snapshot's per-image predictions;
            None: whether the committed paper-settings snapshot keeps them.

    Returns:
        Notebook file name -> {"figures": [``<name>.png``, ``<name>.pdf``, ...], "tables":
        [``<name>.csv``, ``<name>.md``, ...]}.
    """
    if kept_predictions is None:
        kept_predictions = kept_predictions_committed()
    skip = REPORT_OUTPUTS | NEEDS_PAPER_DATA | NEEDS_SEPARATE_RUN | (
        set() if kept_predictions else NEEDS_KEPT_PREDICTIONS)
    out = {}
    for nb, claims in CLAIMS.items():
        names = [n for n in claims if n not in skip]
        out[nb] = {"figures": _fig(*[n for n in names if not is_table(n)]),
                   "tables": _tab(*[n for n in names if is_table(n)])}
    return out


def kept_predictions_committed() -> bool:
    """Whether the reported (newest complete) STEM-JV2D paper-settings snapshot keeps per-image predictions.

    Returns:
        True when that snapshot exists and its ``PREDICTIONS`` file has rows.
    """
    found = snapshots.kept("stem_jv2d", "paper")
    return found is not None and len(found.predictions) > 0


def claimed_items() -> dict:
    """Which outputs reproduce each paper item.

    Returns:
        Paper item ("000 Fig. 1") -> [(notebook file name, output name)].
    """
    out: dict = {}
    for nb, claims in CLAIMS.items():
        for name, items in claims.items():
            for it in filter(None, (s.strip() for s in items.split(","))):
                out.setdefault(it, []).append((nb, name))
    return out


def items_table() -> pd.DataFrame:
    """Every numbered figure and table of the papers, with who reproduces it or why none does.

    Returns:
        One row per item (document key, item, "reproduced by" as "NN output; ...", "not reproduced
        because"), in the papers' order.
    """
    claimed = claimed_items()
    rows = []
    for doc, items in PAPER_ITEMS.items():
        for it in items:
            key = f"{doc} {it}"
            if key in claimed:
                rows.append({"document": doc, "item": it,
                             "reproduced by": "; ".join(f"{nb[:2]} {out}" for nb, out in claimed[key]),
                             "not reproduced because": ""})
            else:
                rows.append({"document": doc, "item": it, "reproduced by": "",
                             "not reproduced because": NOT_REPRODUCED.get(key, "")})
    return pd.DataFrame(rows)
