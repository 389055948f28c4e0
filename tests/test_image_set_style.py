"""Rendering like the paper's STEM image sets: a structure drawn the way AtomVision drew STEM-JV2D
reads back through the loader at the set's stated field of view."""
import io

import numpy as np
import pytest
from jarvis.core.atoms import Atoms
from PIL import Image

from lattice_utils.data import image_sets
from lattice_utils.data.structures import normalise_record
from lattice_utils.lattice.fft_lattice import estimate_lattice
from lattice_utils.simulate import image_set_style


def atoms_of(record):
    return Atoms.from_dict(normalise_record("x", record, "test")["atoms"])


@pytest.mark.parametrize("name, a", [("graphene", 2.46), ("mos2", 3.16)])
def test_a_structure_rendered_like_the_set_reads_back_at_the_sets_field_of_view(request, name, a):
    jpeg = image_set_style.render_like_image_set(atoms_of(request.getfixturevalue(name)), name)
    with Image.open(io.BytesIO(jpeg)) as im:
        assert im.size == (640, 480) and im.format == "JPEG"       # the set's figure
    crop = image_sets.decode_member(jpeg)
    assert crop.shape == (image_sets.IMAGE_PX, image_sets.IMAGE_PX) and crop.dtype == np.uint8
    assert crop.min() == 0 and 230 <= crop.max() <= 250               # the set's grey scale: never 255
    field = image_sets.IMAGE_SETS["stem_jv2d"].field_A
    assert field == image_set_style.FIELD_A == 15.0
    est = estimate_lattice(crop.astype(float), field / image_sets.IMAGE_PX)
    assert est.label == 0 and est.a == pytest.approx(a, rel=0.005), est.summary()
