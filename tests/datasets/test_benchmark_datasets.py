"""Benchmark datasets over fixture trees in each release's exact layout.

Oracles: the label mapping of every release written out as plain Python
below (from docs/benchmarks.md and the spec's table), applied pixel by pixel.
"""
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

import mmseg_be  # noqa: F401
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from tests.datasets.ood_fixtures import (LAF_FRAMES, write_fishyscapes,
                                         write_lost_and_found,
                                         write_road_anomaly, write_smiyc)



@pytest.fixture(autouse=True)
def mmseg_scope():
    # Pipelines resolve transform names in the default scope, as a config's
    # default_scope='mmseg' does.
    init_default_scope('mmseg')


PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadOODAnnotations'),
    dict(type='PackSegInputs'),
]


def identity_0_1_255(raw: int) -> int:
    assert raw in (0, 1, 255)
    return raw


def road_anomaly_oracle(raw: int) -> int:
    if raw == 0:
        return 0
    if raw == 2:
        return 1
    raise AssertionError(raw)


def lost_and_found_oracle(raw: int) -> int:
    if raw == 0:
        return 255  # unlabelled: outside the road region of interest
    if raw == 1:
        return 0  # free road
    if 2 <= raw <= 200:
        return 1  # obstacle
    raise AssertionError(raw)


def apply_oracle(raw: np.ndarray, oracle) -> np.ndarray:
    out = np.empty_like(raw)
    for idx, value in np.ndenumerate(raw):
        out[idx] = oracle(int(value))
    return out


def build(type_name: str, root: str, **kwargs):
    return DATASETS.build(
        dict(type=type_name, data_root=root, pipeline=PIPELINE, **kwargs))


def check_labels(dataset, raw: dict, oracle) -> None:
    """Every frame's packed label equals the oracle applied to its raw map."""
    assert len(dataset) == len(raw)
    for i in range(len(dataset)):
        fid = dataset.get_data_info(i)['frame_id']
        sample = dataset[i]
        label = sample['data_samples'].gt_sem_seg.data.numpy()[0]
        np.testing.assert_array_equal(label, apply_oracle(raw[fid], oracle))
        assert sample['inputs'].shape[1:] == raw[fid].shape


def test_fishyscapes_lost_and_found_pairs_and_labels(tmp_path):
    raw = write_fishyscapes(str(tmp_path))
    ds = build('FishyscapesLostAndFoundDataset', str(tmp_path))
    pairs = [(osp.relpath(d['img_path'], tmp_path),
              osp.relpath(d['seg_map_path'], tmp_path))
             for d in ds.load_data_list()]
    assert pairs == [('original/0.png', 'labels/0.png'),
                     ('original/1.png', 'labels/1.png'),
                     ('original/10.png', 'labels/10.png')]
    assert ds.metainfo['classes'] == ('inlier', 'anomaly')
    check_labels(ds, raw, identity_0_1_255)


def test_fishyscapes_static_with_smiyc_kit_naming(tmp_path):
    raw = write_fishyscapes(
        str(tmp_path), img_dir='images', ann_dir='labels_masks',
        label_suffix='_fishy-labels.png')
    ds = build(
        'FishyscapesStaticDataset', str(tmp_path),
        data_prefix=dict(img_path='images', seg_map_path='labels_masks'),
        seg_map_suffix='_fishy-labels.png')
    assert [osp.basename(d['seg_map_path']) for d in ds.load_data_list()] \
        == ['0_fishy-labels.png', '1_fishy-labels.png', '10_fishy-labels.png']
    check_labels(ds, raw, identity_0_1_255)


def test_road_anomaly_converts_value_2(tmp_path):
    raw = write_road_anomaly(str(tmp_path))
    ds = build('RoadAnomalyDataset', str(tmp_path))
    infos = ds.load_data_list()
    assert [osp.relpath(d['seg_map_path'], tmp_path) for d in infos] == [
        'frames/animals01_Guiyang_2.labels/labels_semantic.png',
        'frames/cones03_road_works.labels/labels_semantic.png'
    ]
    check_labels(ds, raw, road_anomaly_oracle)


@pytest.mark.parametrize('type_name,ext', [
    ('SMIYCAnomalyTrackDataset', 'jpg'),
    ('SMIYCObstacleTrackDataset', 'webp'),
])
def test_smiyc_validation_frames_and_test_images(tmp_path, type_name, ext):
    raw = write_smiyc(str(tmp_path), ext,
                      labelled=['validation0000', 'validation0001'],
                      unlabelled=['test0000', 'test0001', 'test0002'])
    ds = build(type_name, str(tmp_path))
    # With labels: the labelled (validation) frames only.
    assert [d['frame_id'] for d in ds.load_data_list()] == \
        ['validation0000', 'validation0001']
    assert all(d['img_path'].endswith('.' + ext) for d in ds.load_data_list())
    check_labels(ds, raw, identity_0_1_255)
    # Without labels: every image, for export.
    test_ds = DATASETS.build(
        dict(type=type_name, data_root=str(tmp_path), with_labels=False,
             pipeline=[dict(type='LoadImageFromFile'),
                       dict(type='PackSegInputs')]))
    infos = test_ds.load_data_list()
    assert len(test_ds) == 5
    assert all(d['seg_map_path'] is None for d in infos)
    assert test_ds[0]['inputs'].shape == (3, 6, 8)


def test_lost_and_found_pairs_and_label_ids(tmp_path):
    raw = write_lost_and_found(str(tmp_path))
    ds = build('LostAndFoundDataset', str(tmp_path))
    infos = ds.load_data_list()
    expected = sorted(
        (fid, f'gtCoarse/test/{seq}/{fid}_gtCoarse_labelIds.png')
        for seq, fids in LAF_FRAMES.items() for fid in fids)
    assert [(d['frame_id'], osp.relpath(d['seg_map_path'], tmp_path))
            for d in infos] == expected
    check_labels(ds, raw, lost_and_found_oracle)


def test_lost_and_found_train_split(tmp_path):
    raw = write_lost_and_found(str(tmp_path), split='train')
    ds = build('LostAndFoundDataset', str(tmp_path), split='train')
    check_labels(ds, raw, lost_and_found_oracle)
    with pytest.raises(ValueError, match="'val'"):
        build('LostAndFoundDataset', str(tmp_path), split='val')


def test_lost_and_found_no_known_by_label_ids(tmp_path):
    write_lost_and_found(str(tmp_path))
    # Frame ..._000001_000090 holds ids 17 and 200, frame 13_... holds 42.
    ds = build('LostAndFoundDataset', str(tmp_path),
               exclude_label_ids=[17, 99])
    assert [d['frame_id'] for d in ds.load_data_list()] == [
        '04_Maurener_Weg_8_000000_000030',
        '13_Elly_Beinhorn_Str_000000_000050'
    ]
    ds = build('LostAndFoundDataset', str(tmp_path),
               exclude_label_ids=[17, 42])
    assert len(ds) == 1


def test_frame_list_selects_frames(tmp_path):
    write_lost_and_found(str(tmp_path))
    (tmp_path / 'no_known.txt').write_text(
        '13_Elly_Beinhorn_Str_000000_000050\n'
        '04_Maurener_Weg_8_000000_000030\n\n')
    ds = build('LostAndFoundDataset', str(tmp_path), ann_file='no_known.txt')
    # Listed in frame id order, whatever the file's order.
    assert [d['frame_id'] for d in ds.load_data_list()] == [
        '04_Maurener_Weg_8_000000_000030',
        '13_Elly_Beinhorn_Str_000000_000050'
    ]
    (tmp_path / 'bad.txt').write_text('04_Maurener_Weg_8_999999_999999\n')
    with pytest.raises(ValueError, match='999999_999999'):
        build('LostAndFoundDataset', str(tmp_path), ann_file='bad.txt')


# ---------------------------------------------------------------- bad input
def test_missing_root_names_path_and_layout(tmp_path):
    root = tmp_path / 'fishyscapes' / 'LostAndFound'
    (tmp_path / 'fishyscapes').mkdir()
    (tmp_path / 'fishyscapes' / 'Static').mkdir()
    with pytest.raises(FileNotFoundError) as err:
        build('FishyscapesLostAndFoundDataset', str(root))
    msg = str(err.value)
    assert str(root / 'original') in msg
    assert 'Expected layout' in msg and 'labels/<frame>.png' in msg
    # The nearest existing parent is listed, showing the sibling folder.
    assert 'Static/' in msg


def test_image_without_label_names_both_paths(tmp_path):
    write_road_anomaly(str(tmp_path))
    label = tmp_path / 'frames' / 'cones03_road_works.labels' / \
        'labels_semantic.png'
    os.remove(label)
    with pytest.raises(FileNotFoundError) as err:
        build('RoadAnomalyDataset', str(tmp_path))
    msg = str(err.value)
    assert '1 of 2 images have no label' in msg
    assert str(tmp_path / 'frames' / 'cones03_road_works.jpg') in msg
    assert str(label) in msg
    assert 'Found on disk' in msg


def test_smiyc_label_without_image(tmp_path):
    write_smiyc(str(tmp_path), 'jpg', labelled=['validation0000'],
                unlabelled=[])
    os.remove(tmp_path / 'images' / 'validation0000.jpg')
    with pytest.raises(FileNotFoundError, match='validation0000.jpg'):
        build('SMIYCAnomalyTrackDataset', str(tmp_path))


def test_empty_image_folder(tmp_path):
    (tmp_path / 'original').mkdir()
    (tmp_path / 'labels').mkdir()
    with pytest.raises(FileNotFoundError, match='no images'):
        build('FishyscapesStaticDataset', str(tmp_path))


@pytest.mark.parametrize('type_name,writer,bad,reported', [
    ('FishyscapesLostAndFoundDataset', write_fishyscapes, 7, '7: 3 px'),
    ('RoadAnomalyDataset', write_road_anomaly, 3, 'raw 3 -> 3: 3 px'),
    ('LostAndFoundDataset', write_lost_and_found, 230, 'raw 230 -> 230: 3 px'),
])
def test_label_values_outside_0_1_255_fail(tmp_path, type_name, writer, bad,
                                           reported):
    writer(str(tmp_path))
    ds = build(type_name, str(tmp_path))
    path = ds.get_data_info(0)['seg_map_path']
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    label[0, :3] = bad
    cv2.imwrite(path, label)
    with pytest.raises(ValueError) as err:
        ds[0]
    msg = str(err.value)
    # The file and the raw value with its pixel count (3 pixels were set).
    assert path in msg and reported in msg


def test_reduce_zero_label_rejected(tmp_path):
    write_fishyscapes(str(tmp_path))
    with pytest.raises(ValueError, match='reduce_zero_label'):
        build('FishyscapesStaticDataset', str(tmp_path),
              reduce_zero_label=True)


def cut_in_half(path: str) -> None:
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def test_truncated_files_are_named_in_the_error(tmp_path):
    write_fishyscapes(str(tmp_path))
    image = str(tmp_path / 'original' / '1.png')
    cut_in_half(image)
    pipeline = [dict(type='LoadImageFromFile', imdecode_backend='pillow')]
    ds = DATASETS.build(dict(type='FishyscapesLostAndFoundDataset',
                             data_root=str(tmp_path), pipeline=pipeline))
    index = [d['img_path'] for d in ds.load_data_list()].index(image)
    # PIL's "image file is truncated" names no file; the dataset adds it.
    with pytest.raises(OSError, match='truncated') as info:
        ds[index]
    assert image not in str(info.value)
    assert any(image in note for note in info.value.__notes__)
    laf = str(tmp_path / 'laf')
    write_lost_and_found(laf)
    label = build('LostAndFoundDataset', laf).get_data_info(0)['seg_map_path']
    cut_in_half(label)
    with pytest.raises(OSError, match=re.escape(label) + ': truncated'):
        build('LostAndFoundDataset', laf, exclude_label_ids=[17])
