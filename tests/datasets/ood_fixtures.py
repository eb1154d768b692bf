"""Tiny fixture trees in the exact folder and file naming of each release.

Every writer returns the raw label arrays it wrote (keyed by frame id) so
that tests compare the loaded labels with the mapping tables written plainly
in the tests, never with the code under test.
"""
import os
import os.path as osp
from typing import Dict, Iterable

import cv2
import numpy as np

H, W = 6, 8


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3),
                                                dtype=np.uint8)


def _write(path: str, array: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, array):
        raise RuntimeError(f'could not write {path}')


def _label(values: Iterable[int], seed: int) -> np.ndarray:
    """A label map holding every value of ``values`` (then random ones)."""
    values = list(values)
    rng = np.random.default_rng(seed)
    flat = rng.choice(values, H * W).astype(np.uint8)
    flat[:len(values)] = values
    return flat.reshape(H, W)


def write_fishyscapes(root: str,
                      img_dir: str = 'original',
                      ann_dir: str = 'labels',
                      label_suffix: str = '.png') -> Dict[str, np.ndarray]:
    """``original/<frame>.png`` + ``labels/<frame>.png`` with 0/1/255."""
    raw = {}
    for i, fid in enumerate(['0', '1', '10']):
        _write(osp.join(root, img_dir, fid + '.png'), _image(i))
        raw[fid] = _label([0, 1, 255], seed=i)
        _write(osp.join(root, ann_dir, fid + label_suffix), raw[fid])
    return raw


def write_road_anomaly(root: str) -> Dict[str, np.ndarray]:
    """``frames/<name>.jpg`` + ``frames/<name>.labels/labels_semantic.png``.

    The raw anomaly value is 2; a colour visualisation sits beside the
    label as in the release and must not be read.
    """
    raw = {}
    for i, name in enumerate(['animals01_Guiyang_2', 'cones03_road_works']):
        _write(osp.join(root, 'frames', name + '.jpg'), _image(i))
        raw[name] = _label([0, 2], seed=10 + i)
        label_dir = osp.join(root, 'frames', name + '.labels')
        _write(osp.join(label_dir, 'labels_semantic.png'), raw[name])
        _write(osp.join(label_dir, 'labels_semantic_color.png'), _image(99))
    return raw


def write_smiyc(root: str, img_ext: str, labelled: Iterable[str],
                unlabelled: Iterable[str]) -> Dict[str, np.ndarray]:
    """``images/<frame>.<ext>`` for all frames, ``labels_masks/<frame>_
    labels_semantic.png`` (0/1/255) for the labelled (validation) ones."""
    raw = {}
    for i, fid in enumerate(list(labelled) + list(unlabelled)):
        _write(osp.join(root, 'images', f'{fid}.{img_ext}'), _image(20 + i))
    for i, fid in enumerate(labelled):
        raw[fid] = _label([0, 1, 255], seed=20 + i)
        _write(
            osp.join(root, 'labels_masks', f'{fid}_labels_semantic.png'),
            raw[fid])
    return raw


LAF_FRAMES = {
    '04_Maurener_Weg_8': ['04_Maurener_Weg_8_000000_000030',
                          '04_Maurener_Weg_8_000001_000090'],
    '13_Elly_Beinhorn_Str': ['13_Elly_Beinhorn_Str_000000_000050'],
}
# Raw label ids per frame: 0 unlabelled, 1 free road, 2..200 obstacles.
LAF_RAW_VALUES = {
    '04_Maurener_Weg_8_000000_000030': [0, 1, 2, 5],
    '04_Maurener_Weg_8_000001_000090': [0, 1, 17, 200],
    '13_Elly_Beinhorn_Str_000000_000050': [0, 1, 42],
}


def write_lost_and_found(root: str, split: str = 'test'
                         ) -> Dict[str, np.ndarray]:
    """The Cityscapes-style LostAndFound release, one folder per sequence."""
    raw = {}
    for seq, fids in LAF_FRAMES.items():
        for fid in fids:
            seed = len(raw)
            _write(
                osp.join(root, 'leftImg8bit', split, seq,
                         f'{fid}_leftImg8bit.png'), _image(seed))
            raw[fid] = _label(LAF_RAW_VALUES[fid], seed=30 + seed)
            gt = osp.join(root, 'gtCoarse', split, seq, f'{fid}_gtCoarse_')
            _write(gt + 'labelIds.png', raw[fid])
            # Other files of the release that must not be taken as labels.
            _write(gt + 'instanceIds.png', raw[fid] * 0 + 7)
            _write(gt + 'labelTrainIds.png', raw[fid] * 0 + 3)
    return raw


# StreetHazards: town folders as the release has them (one per CARLA town);
# labels hold the class index + 1, 14 being the anomaly (test towns only).
STREET_HAZARDS_FRAMES = {
    'training': {'t1': ['300', '301']},
    'validation': {'t4': ['5']},
    'test': {'t5': ['100'], 't6': ['7']},
}
STREET_HAZARDS_RAW_VALUES = {
    'training': [1, 2, 8, 13],
    'validation': [1, 7, 10],
    'test': [1, 8, 14],
}


def write_street_hazards(root: str, split: str = 'training'
                         ) -> Dict[str, np.ndarray]:
    """``{train,test}/images/<split>/<town>/<frame>.png`` + annotations."""
    archive = 'test' if split == 'test' else 'train'
    raw = {}
    for town, frames in STREET_HAZARDS_FRAMES[split].items():
        for name in frames:
            fid = f'{town}/{name}'
            seed = 40 + len(raw)
            _write(osp.join(root, archive, 'images', split, town,
                            name + '.png'), _image(seed))
            raw[fid] = _label(STREET_HAZARDS_RAW_VALUES[split], seed=seed)
            _write(osp.join(root, archive, 'annotations', split, town,
                            name + '.png'), raw[fid])
    return raw


# BDD-Anomaly: frames of both BDD100K splits; the anomaly frames hold
# trainId 16 (train), 17 (motorcycle) or 18 (bicycle); 255 is "other".
BDD_ANOMALY_FRAMES = {'train': ['0004a4c0-d4dff0ad', '00a395fe-d60c0b47'],
                      'val': ['7d2f7975-e0c1c5a7']}
BDD_ANOMALY_RAW_VALUES = {
    '0004a4c0-d4dff0ad': [0, 13, 17, 255],
    '00a395fe-d60c0b47': [0, 2, 16, 18],
    '7d2f7975-e0c1c5a7': [1, 10, 18, 255],
}
# A frame of the split without an anomaly class: not a test frame.
BDD_INLIER_FRAME = ('train', '0027eed2-09c90000', [0, 1, 13, 255])


def write_bdd_anomaly(root: str) -> Dict[str, np.ndarray]:
    """``images/{train,val}/<id>.jpg`` and
    ``labels/{train,val}/<id>_train_id.png`` in the BDD100K segmentation
    layout, plus one in-distribution frame."""
    raw = {}
    frames = [(split, fid, BDD_ANOMALY_RAW_VALUES[fid])
              for split, ids in BDD_ANOMALY_FRAMES.items() for fid in ids]
    for i, (split, fid, values) in enumerate(frames + [BDD_INLIER_FRAME]):
        _write(osp.join(root, 'images', split, fid + '.jpg'), _image(60 + i))
        label = _label(values, seed=60 + i)
        _write(osp.join(root, 'labels', split, fid + '_train_id.png'), label)
        if (split, fid, values) != BDD_INLIER_FRAME:
            raw[fid] = label
    return raw
