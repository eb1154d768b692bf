"""LoadOODAnnotations: value maps, value checks and misuse errors."""
import re

import cv2
import mmcv
import numpy as np
import pytest

import mmseg_be  # noqa: F401
from mmseg.registry import TRANSFORMS
from mmseg_be.datasets.transforms.loading import (describe_value_map,
                                                  value_lut)


def write_label(tmp_path, array, name='label.png'):
    path = str(tmp_path / name)
    assert cv2.imwrite(path, array)
    return path


def load(path, **kwargs):
    extra = kwargs.pop('results', {})
    transform = TRANSFORMS.build(dict(type='LoadOODAnnotations', **kwargs))
    return transform(dict(seg_map_path=path, seg_fields=[], **extra))


def test_value_map_argument_converts_every_pixel(tmp_path):
    raw = np.array([[0, 2, 2], [0, 9, 255]], dtype=np.uint8)
    out = load(write_label(tmp_path, raw), value_map={2: 1, 9: 255})
    # Hand-converted: 2 -> 1, 9 -> 255, others kept.
    expected = np.array([[0, 1, 1], [0, 255, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(out['gt_seg_map'], expected)
    assert out['gt_seg_map'].dtype == np.uint8
    assert out['seg_fields'] == ['gt_seg_map']


def test_dataset_value_map_is_used(tmp_path):
    raw = np.array([[0, 1, 5]], dtype=np.uint8)
    out = load(write_label(tmp_path, raw),
               results=dict(ood_value_map={0: 255, 1: 0, 5: 1}))
    np.testing.assert_array_equal(out['gt_seg_map'], [[255, 0, 1]])


def test_two_value_maps_are_an_error(tmp_path):
    path = write_label(tmp_path, np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match='one place'):
        load(path, value_map={2: 1}, results=dict(ood_value_map={2: 1}))


def test_allowed_values_are_configurable(tmp_path):
    path = write_label(tmp_path, np.array([[0, 254]], dtype=np.uint8))
    with pytest.raises(ValueError, match='254: 1 px'):
        load(path)
    out = load(path, allowed_values=(0, 254))
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 254]])


def test_colour_label_is_rejected(tmp_path):
    path = write_label(tmp_path, np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(ValueError, match='single-channel'):
        load(path)


def test_sample_without_label_path(tmp_path):
    transform = TRANSFORMS.build(dict(type='LoadOODAnnotations'))
    with pytest.raises(ValueError, match='with_labels=False'):
        transform(dict(img_path='a.jpg', seg_map_path=None))


def test_lut_and_description():
    lut = value_lut({0: 255, 1: 0, **{i: 1 for i in range(2, 201)}})
    assert lut[0] == 255 and lut[1] == 0 and lut[2] == 1 and lut[200] == 1
    assert lut[201] == 201 and lut[255] == 255
    assert describe_value_map({0: 255, 1: 0, **{i: 1 for i in range(2, 201)}}
                              ) == '0->255, 1->0, 2..200->1'
    assert describe_value_map({2: 1, 4: 1}) == '2->1, 4->1'
    with pytest.raises(ValueError, match='300'):
        value_lut({300: 1})


def truncate(path):
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])
    return data[:len(data) // 2]


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
def test_truncated_label_error_names_its_path(tmp_path, backend):
    rng = np.random.default_rng(0)
    path = write_label(tmp_path, rng.integers(0, 2, (64, 64), np.uint8))
    cut = truncate(path)
    if backend == 'pillow':
        # The fault: the decoder's own error names no file.
        with pytest.raises(OSError, match='truncated') as plain:
            mmcv.imfrombytes(cut, flag='unchanged', backend='pillow')
        assert path not in str(plain.value)
    with pytest.raises(OSError, match=re.escape(path) + ': cannot be decoded'):
        load(path, imdecode_backend=backend)
