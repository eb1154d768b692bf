"""Release checks of every benchmark dataset class.

Miniature trees in each official layout cannot hold the official frame
counts, so each case checks the folder against a miniature release written
here (the frames, label values and image size the fixture writer is known
to produce); a separate test states the official table's numbers as the
sources give them. Oracles: the fixture's frame ids and raw label values
(tests/datasets/ood_fixtures.py), and each release's anomaly/valid raw
values written out below.
"""
import os
import os.path as osp
import warnings
from typing import Callable, Dict, List, NamedTuple, Set

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmseg_be  # noqa: F401
from mmseg_be.cli.check_datasets import main as check_datasets
from mmseg_be.datasets.bdd_anomaly_frames import FROM_TRAIN, FROM_VAL
from mmseg_be.datasets.releases import (RELEASES, Release,
                                        ReleaseMismatchWarning,
                                        match_release, survey_dataset)
from tests.datasets import ood_fixtures as fx


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


class Case(NamedTuple):
    type: str
    write: Callable[[str], Dict[str, np.ndarray]]
    kwargs: dict
    image: Callable[[str, str], str]  # (root, frame id) -> image path
    label: Callable[[str, str], str]  # (root, frame id) -> label path
    values: Set[int]  # raw label values the release allows
    anomaly: Set[int]  # raw values that are anomaly pixels
    ignored: Set[int]  # raw values that are neither anomaly nor inlier
    foreign: int  # a raw value the release does not have


def _laf_seq(fid: str) -> str:
    return next(seq for seq, ids in fx.LAF_FRAMES.items() if fid in ids)


def _bdd_split(fid: str) -> str:
    return next(s for s, ids in fx.BDD_ANOMALY_FRAMES.items() if fid in ids)


CASES = [
    Case('FishyscapesLostAndFoundDataset', fx.write_fishyscapes, {},
         lambda r, f: osp.join(r, 'original', f + '.png'),
         lambda r, f: osp.join(r, 'labels', f + '.png'),
         {0, 1, 255}, {1}, {255}, 77),
    Case('FishyscapesStaticDataset', fx.write_fishyscapes, {},
         lambda r, f: osp.join(r, 'original', f + '.png'),
         lambda r, f: osp.join(r, 'labels', f + '.png'),
         {0, 1, 255}, {1}, {255}, 3),
    Case('RoadAnomalyDataset', fx.write_road_anomaly, {},
         lambda r, f: osp.join(r, 'frames', f + '.jpg'),
         lambda r, f: osp.join(r, 'frames', f + '.labels',
                               'labels_semantic.png'),
         {0, 2}, {2}, set(), 1),
    Case('SMIYCAnomalyTrackDataset',
         lambda r: fx.write_smiyc(r, 'jpg', ['validation0000',
                                            'validation0001'], ['test0']),
         {}, lambda r, f: osp.join(r, 'images', f + '.jpg'),
         lambda r, f: osp.join(r, 'labels_masks',
                               f + '_labels_semantic.png'),
         {0, 1, 255}, {1}, {255}, 2),
    Case('SMIYCObstacleTrackDataset',
         lambda r: fx.write_smiyc(r, 'webp', ['validation_1',
                                             'validation_2'], ['gravel_1']),
         {}, lambda r, f: osp.join(r, 'images', f + '.webp'),
         lambda r, f: osp.join(r, 'labels_masks',
                               f + '_labels_semantic.png'),
         {0, 1, 255}, {1}, {255}, 254),
    Case('LostAndFoundDataset', fx.write_lost_and_found, {},
         lambda r, f: osp.join(r, 'leftImg8bit', 'test', _laf_seq(f),
                               f + '_leftImg8bit.png'),
         lambda r, f: osp.join(r, 'gtCoarse', 'test', _laf_seq(f),
                               f + '_gtCoarse_labelIds.png'),
         set(range(0, 201)), set(range(2, 201)), {0}, 201),
    Case('StreetHazardsDataset',
         lambda r: fx.write_street_hazards(r, 'training'), {},
         lambda r, f: osp.join(r, 'train', 'images', 'training', f + '.png'),
         lambda r, f: osp.join(r, 'train', 'annotations', 'training',
                               f + '.png'),
         set(range(1, 14)), set(), set(), 14),
    Case('StreetHazardsAnomalyDataset',
         lambda r: fx.write_street_hazards(r, 'test'), {},
         lambda r, f: osp.join(r, 'test', 'images', 'test', f + '.png'),
         lambda r, f: osp.join(r, 'test', 'annotations', 'test', f + '.png'),
         set(range(1, 15)), {14}, set(), 0),
    Case('BDDAnomalyDataset', fx.write_bdd_anomaly,
         dict(frames=fx.BDD_ANOMALY_FRAMES),
         lambda r, f: osp.join(r, 'images', _bdd_split(f), f + '.jpg'),
         lambda r, f: osp.join(r, 'labels', _bdd_split(f),
                               f + '_train_id.png'),
         set(range(0, 19)) | {255}, {16, 17, 18}, set(), 19),
]
IDS = [c.type for c in CASES]


def mini_release(case: Case, frame_ids: List[str], name='mini') -> Release:
    return Release(name, len(frame_ids), frozenset(case.values),
                   (fx.H, fx.W), frozenset(frame_ids))


def build(case: Case, root: str, releases, check='full'):
    return DATASETS.build(
        dict(type=case.type, data_root=root, pipeline=[],
             releases=releases, release_check=check, **case.kwargs))


def mismatch_warnings(record) -> List[str]:
    return [str(w.message) for w in record
            if issubclass(w.category, ReleaseMismatchWarning)]


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_matching_release_is_recognised(case, tmp_path):
    root = str(tmp_path)
    raw = case.write(root)
    ids = sorted(raw)
    other = Release('bigger', len(ids) + 5, frozenset(case.values))
    releases = [other, mini_release(case, ids)]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        dataset = build(case, root, releases)
    assert mismatch_warnings(record) == []
    survey = survey_dataset(dataset)
    assert sorted(survey.frame_ids) == ids
    check = match_release(survey, dataset.release_table)
    assert check.matched.name == 'mini' and check.differences == []
    # The anomaly share, counted on the fixture's raw labels by the roles
    # written in the case.
    if case.anomaly:
        pixels = np.concatenate([a.ravel() for a in raw.values()])
        anomaly = np.isin(pixels, list(case.anomaly)).sum()
        valid = (~np.isin(pixels, list(case.ignored))).sum()
        assert survey.anomaly_share == pytest.approx(anomaly / valid)


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_missing_frame_is_reported_with_its_id(case, tmp_path):
    root = str(tmp_path)
    ids = sorted(case.write(root))
    gone = ids[-1]
    os.remove(case.image(root, gone))
    os.remove(case.label(root, gone))
    with pytest.warns(ReleaseMismatchWarning) as record:
        dataset = build(case, root, [mini_release(case, ids)],
                        check='frames')
    (message, ) = mismatch_warnings(record)
    assert f'missing frames: {gone}' in message
    left = len(ids) - 1
    assert (f'{left} frame{"" if left == 1 else "s"}, the release has '
            f'{len(ids)}') in message
    assert len(dataset) == len(ids) - 1  # it still loads


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_foreign_label_value_is_reported_with_the_frame(case, tmp_path):
    root = str(tmp_path)
    raw = case.write(root)
    ids = sorted(raw)
    spoilt = ids[0]
    label = raw[spoilt].copy()
    label[0, 0] = case.foreign
    assert cv2.imwrite(case.label(root, spoilt), label)
    with pytest.warns(ReleaseMismatchWarning) as record:
        build(case, root, [mini_release(case, ids)])
    (message, ) = mismatch_warnings(record)
    expected = (f'label value {case.foreign}, foreign to the release, in '
                f'frames: {spoilt}')
    assert expected in message
    # The frame-level check (the default) does not read labels: no warning.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        build(case, root, [mini_release(case, ids)], check='frames')
    assert mismatch_warnings(record) == []


def test_official_releases_as_the_sources_give_them():
    def release(type_name, name):
        (found, ) = [r for r in RELEASES[type_name] if r.name == name]
        return found

    # SegmentMeIfYouCan kit (road_anomaly_benchmark/datasets/tracks.py and
    # tracks_extra.py at commit 1c7804e): expected_length of each split.
    assert release('LostAndFoundDataset', 'LostAndFound-test').frames == 1203
    assert release('LostAndFoundDataset',
                   'LostAndFound-testNoKnown').frames == 1043
    assert release('LostAndFoundDataset', 'LostAndFound-train').frames == 1036
    val = release('SMIYCAnomalyTrackDataset',
                  'AnomalyTrack-validation (RoadAnomaly21, public labels)')
    assert val.frames == 10
    assert val.frame_ids == {
        'validation0000', 'validation0001', 'validation0002',
        'validation0003', 'validation0004', 'validation0005',
        'validation0006', 'validation0007', 'validation0008',
        'validation0009'
    }
    assert release('SMIYCAnomalyTrackDataset',
                   'AnomalyTrack-all (RoadAnomaly21 images)').frames == 110
    obstacle = {r.name: r.frames
                for r in RELEASES['SMIYCObstacleTrackDataset']}
    # 30 evaluated validation frames (40 before commit 889abbb); all images:
    # test 327 + night 30 + snowstorm 55 (+ 40 validation images).
    assert sorted(obstacle.values()) == [30, 40, 412, 452]
    assert 327 + 30 + 55 == 412 and 412 + 40 == 452
    assert release('FishyscapesLostAndFoundDataset',
                   'Fishyscapes Lost & Found val').frames == 100
    # bdl-benchmark's TFDS builder: images of 1024 x 2048.
    for type_name in ('FishyscapesLostAndFoundDataset',
                      'FishyscapesStaticDataset', 'LostAndFoundDataset'):
        assert {r.image_size for r in RELEASES[type_name]} == {(1024, 2048)}
    # No frame count of Fishyscapes Static nor of StreetHazards was found in
    # an official source read for this table: recorded as unknown.
    for type_name in ('FishyscapesStaticDataset', 'StreetHazardsDataset',
                      'StreetHazardsAnomalyDataset'):
        assert {r.frames for r in RELEASES[type_name]} == {None}
    # hendrycks/anomaly-seg: StreetHazards labels are class + 1 (1..13),
    # 14 the anomaly in the test towns; 1280 x 720 images.
    (test, ) = RELEASES['StreetHazardsAnomalyDataset']
    assert test.label_values == set(range(1, 15))
    assert test.image_size == (720, 1280)
    # BDD-Anomaly: the authors' seg/labels hold 720 (of 7000) train and 90
    # (of 1000) val frames with trainId 16, 17 or 18.
    (bdd, ) = RELEASES['BDDAnomalyDataset']
    assert (len(FROM_TRAIN), len(FROM_VAL), bdd.frames) == (720, 90, 810)
    assert len(bdd.frame_ids) == 810
    assert not set(FROM_TRAIN) & set(FROM_VAL)
    assert bdd.label_values == set(range(19)) | {255}


def test_warning_is_one_and_says_how_numbers_were_measured(tmp_path):
    """The official table on a miniature LostAndFound tree: one warning
    naming the closest release, the count and the published protocol."""
    fx.write_lost_and_found(str(tmp_path))
    with pytest.warns(ReleaseMismatchWarning) as record:
        DATASETS.build(dict(type='LostAndFoundDataset',
                            data_root=str(tmp_path), pipeline=[]))
    (message, ) = mismatch_warnings(record)
    assert 'Closest: LostAndFound-test' in message
    assert '3 frames, the release has 1203' in message
    assert 'LostAndFound-testNoKnown (1043 frames)' in message


def test_check_datasets_tool(tmp_path, capsys):
    root = str(tmp_path / 'laf')
    fx.write_lost_and_found(root)
    argv = [root, '--dataset-type', 'LostAndFoundDataset']
    assert check_datasets(argv) == 0
    out = capsys.readouterr().out
    assert 'release:  NO MATCH; closest: LostAndFound-test' in out
    assert 'frames:   3' in out
    assert 'differs:  3 frames, the release has 1203' in out
    assert '1 of 1 folders match no known release' in out
    # --strict turns the mismatch into the exit status.
    assert check_datasets(argv + ['--strict']) == 6
    # The train split is another release: selected by the dataset option.
    os.rename(osp.join(root, 'leftImg8bit', 'test'),
              osp.join(root, 'leftImg8bit', 'train'))
    os.rename(osp.join(root, 'gtCoarse', 'test'),
              osp.join(root, 'gtCoarse', 'train'))
    assert check_datasets(argv + ['--dataset-options', 'split=train']) == 0
    assert 'closest: LostAndFound-train' in capsys.readouterr().out
    # A folder that is not there, an unknown type: usage errors.
    assert check_datasets([str(tmp_path / 'nope'), '--dataset-type',
                           'LostAndFoundDataset']) == 2
    assert check_datasets([root, '--dataset-type', 'NoSuchDataset']) == 2


def test_check_datasets_reads_a_config(tmp_path, capsys):
    root = str(tmp_path / 'ra')
    fx.write_road_anomaly(root)
    code = check_datasets([
        'configs/benchmarks/deeplabv3plus_r101-d8_test-road-anomaly.py',
        '--cfg-options', f'test_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}', '--strict'
    ])
    out = capsys.readouterr().out
    assert code == 6
    assert 'closest: Road Anomaly (ICCV 2019)' in out
    assert 'labels:   values 0, 2' in out
    # The val and test dataloaders read the same folder: checked once.
    assert out.count('RoadAnomalyDataset') == 1
    # A dataloader whose folder is missing is named; the others are checked.
    code = check_datasets([
        'configs/benchmarks/deeplabv3plus_r101-d8_test-road-anomaly.py',
        '--cfg-options', f'test_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}-missing'
    ])
    captured = capsys.readouterr()
    assert code == 2
    assert 'error: val_dataloader: RoadAnomalyDataset' in captured.err
    assert 'closest: Road Anomaly (ICCV 2019)' in captured.out


def test_check_datasets_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        check_datasets(['--help'])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith('usage:')
    assert '--strict' in out
    assert '6  check_datasets --strict: a dataset folder matches no known' \
        in out
