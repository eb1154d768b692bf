"""Which official release a benchmark folder is: the facts and the check.

Published numbers on a benchmark are only comparable when they were measured
on the same frames with the same labels. Several releases changed over time
(Fishyscapes Static v1/v2/v3, the SegmentMeIfYouCan ObstacleTrack before and
after its validation images were added, the LostAndFound subsets the SMIYC
kit evaluates), and a download can be incomplete. This module holds, per
dataset class, the facts of each official release (:data:`RELEASES`) and
the check that compares a folder with them:

- :func:`survey_dataset` measures a built dataset: its frame ids, and
  (``read_labels=True``) the raw label values, image sizes and anomaly pixel
  share, each with the frames they were found in;
- :func:`match_release` compares the survey with the candidate releases and
  returns the matching one, or the closest with every difference named;
- :class:`ReleaseCheckMixin` runs the frame-level check when a dataset is
  built and issues one :class:`ReleaseMismatchWarning` if no release
  matches (the dataset still loads).

Where each fact comes from is written next to it (``source``). A fact that
could not be confirmed from an official page or kit is recorded as ``None``
or says so in its source.
"""
import os.path as osp
import warnings
from dataclasses import dataclass, field
from typing import (Dict, FrozenSet, Iterable, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np

from .bdd_anomaly_frames import FROM_TRAIN, FROM_VAL

#: The kit commits the facts below were read at.
SMIYC_KIT = ('SegmentMeIfYouCan/road-anomaly-benchmark at 1c7804e, '
             'road_anomaly_benchmark/datasets/')
BDLB_KIT = ('hermannsblum/bdl-benchmark, bdlb/fishyscapes/'
            'fishyscapes_tfds.py')
CAOS_KIT = 'hendrycks/anomaly-seg at 4e7b1de'


class ReleaseMismatchWarning(UserWarning):
    """A benchmark folder matches none of the official releases."""


@dataclass(frozen=True)
class Release:
    """The facts of one official release (one split of one version).

    Args:
        name: What the release is called, e.g. ``'LostAndFound-test'``.
        frames: Number of frames; None when no official count is known.
        label_values: Raw values a label file may hold; None: not checked.
        image_size: ``(height, width)`` of every image; None when the
            release has images of several sizes or the size is not known.
        frame_ids: The release's frame ids when the kit lists them.
        when: Dataset attributes the release applies to, e.g.
            ``(('split', 'test'),)`` or ``(('with_labels', False),)``.
        source: Where the facts come from.
        measured: How published numbers on this release were measured.
    """

    name: str
    frames: Optional[int]
    label_values: Optional[FrozenSet[int]] = None
    image_size: Optional[Tuple[int, int]] = None
    frame_ids: Optional[FrozenSet[str]] = None
    when: Tuple[Tuple[str, object], ...] = ()
    source: str = ''
    measured: str = ''

    def applies_to(self, dataset: object) -> bool:
        """Whether the dataset's settings select this release."""
        return all(getattr(dataset, key, None) == value
                   for key, value in self.when)


def _values(*spans: Union[int, range]) -> FrozenSet[int]:
    out = set()
    for span in spans:
        out.update(span if isinstance(span, range) else (span, ))
    return frozenset(out)


_FS_MEASURED = ('pixel AP / FPR95 / AUROC over all pixels of all frames, '
                'label 255 ignored (the Fishyscapes kit, PEBAL and Balanced '
                'Energy evaluate this way)')
_SMIYC_MEASURED = ('the SMIYC leaderboard measures the private test frames '
                   'on its server; papers report the public validation '
                   'frames with the kit\'s binned pixel metrics and its '
                   'component metrics')
_LAF_MEASURED = ('the SMIYC kit evaluates LostAndFound-testNoKnown (1043 '
                 'frames) for its obstacle track; other papers report the '
                 'full test split (1203 frames) or the 1186 with a valid '
                 'label: name the subset with the number')
_SH_MEASURED = ('the authors\' eval_ood.py computes AUROC, AUPR and FPR95 '
                'per test image and averages them over the images that hold '
                'both anomaly and inlier pixels; PixelOODMetric pools all '
                'pixels of the test set instead (docs/benchmarks.md)')
_BDD_MEASURED = _SH_MEASURED

# Ids of the SMIYC AnomalyTrack validation frames (tracks_extra.py,
# RoadAnomalyByClass.FRAME_IDS['validation']).
_ANOMALY_TRACK_VAL_IDS = frozenset(f'validation{i:04d}' for i in range(10))
# StreetHazards raw label values: 1 unlabeled ... 13 traffic sign, 14 anomaly
# (the release stores the class index + 1; hendrycks/anomaly-seg dataset.py
# subtracts 1 and eval_ood.py's OOD.out_labels is (13,) after it; the
# authors confirm the training classes in anomaly-seg issue #17).
_SH_INLIER_VALUES = _values(range(1, 14))
_SH_TEST_VALUES = _values(range(1, 15))
# BDD100K trainIds 0..18 and 255 (other), as in the authors' seg/labels.
_BDD_VALUES = _values(range(0, 19), 255)

RELEASES: Dict[str, Tuple[Release, ...]] = {
    'FishyscapesLostAndFoundDataset': (
        Release(
            'Fishyscapes Lost & Found val', 100, _values(0, 1, 255),
            (1024, 2048),
            source=f'{SMIYC_KIT}tracks_extra.py (FishyLAFAnomaly-val, '
            f'expected_length 100); image shape (1024, 2048, 3) in '
            f'{BDLB_KIT}',
            measured=_FS_MEASURED), ),
    'FishyscapesStaticDataset': (
        Release(
            'Fishyscapes Static val (v1.0.0, v2.0.0 or v3.0.0)', None,
            _values(0, 1, 255), (1024, 2048),
            source=f'{BDLB_KIT}: versions 1.0.0 (March 2019), 2.0.0 (June '
            '2019, improved blending), 3.0.0 (January 2020, Cityscapes '
            'objects as negatives), image shape (1024, 2048); a folder of '
            'PNGs carries no version mark and the kit records no per-file '
            'checksums, so the check cannot tell the versions apart. No '
            'frame count is given by the kit or the website.',
            measured=_FS_MEASURED + '; papers rarely name the version'), ),
    'RoadAnomalyDataset': (
        Release(
            'Road Anomaly (ICCV 2019)', 60, _values(0, 2), (720, 1280),
            source='the EPFL Road Anomaly page as this project documents '
            'it (60 frames, 1280x720, anomaly value 2); not re-read from '
            'an official kit',
            measured='pixel AP / FPR95 over all 60 frames, no ignore '
            'region'), ),
    'SMIYCAnomalyTrackDataset': (
        Release(
            'AnomalyTrack-validation (RoadAnomaly21, public labels)', 10,
            _values(0, 1, 255), frame_ids=_ANOMALY_TRACK_VAL_IDS,
            when=(('with_labels', True), ),
            source=f'{SMIYC_KIT}tracks_extra.py (AnomalyTrack-validation, '
            'expected_length 10, ids validation0000..validation0009)',
            measured=_SMIYC_MEASURED),
        Release(
            'AnomalyTrack-all (RoadAnomaly21 images)', 110,
            when=(('with_labels', False), ),
            source=f'{SMIYC_KIT}tracks.py (AnomalyTrack-all, '
            'expected_length 110: 100 test + 10 validation)',
            measured=_SMIYC_MEASURED),
    ),
    'SMIYCObstacleTrackDataset': (
        Release(
            'ObstacleTrack-validation as the kit evaluates it', 30,
            _values(0, 1, 255), when=(('with_labels', True), ),
            source=f'{SMIYC_KIT}tracks.py (ObstacleTrack-validation, '
            'expected_length 30 after excluding the ids starting with '
            'validation_19 and validation_21..validation_29)',
            measured=_SMIYC_MEASURED),
        Release(
            'ObstacleTrack validation labels (40 frames, before the kit '
            'excluded 10)', 40, _values(0, 1, 255),
            when=(('with_labels', True), ),
            source=f'{SMIYC_KIT}tracks.py history: expected_length 40 until '
            'commit 889abbb (2021-08-16)',
            measured=_SMIYC_MEASURED),
        Release(
            'ObstacleTrack-all with the validation images', 452,
            when=(('with_labels', False), ),
            source=f'{SMIYC_KIT}tracks.py: test 327 + night 30 + snowstorm '
            '55 (enforced counts) + 40 validation images; the kit writes '
            '452 in a comment, not as an enforced count',
            measured=_SMIYC_MEASURED),
        Release(
            'ObstacleTrack-all without validation images (before '
            '2021-08-16)', 412, when=(('with_labels', False), ),
            source=f'{SMIYC_KIT}tracks.py history: expected_length 412 '
            'until commit 889abbb',
            measured=_SMIYC_MEASURED),
    ),
    'LostAndFoundDataset': (
        Release(
            'LostAndFound-test', 1203, _values(range(0, 201)), (1024, 2048),
            when=(('split', 'test'), ),
            source=f'{SMIYC_KIT}tracks.py (LostAndFound-test, '
            'expected_length 1203; labels 0 ignore, 1 road, 2..200 '
            f'obstacles); image shape from {BDLB_KIT}',
            measured=_LAF_MEASURED),
        Release(
            'LostAndFound-testNoKnown', 1043, _values(range(0, 201)),
            (1024, 2048), when=(('split', 'test'), ),
            source=f'{SMIYC_KIT}tracks.py (LostAndFound-testNoKnown, '
            'expected_length 1043: the test split without its 17 frames '
            'whose label is all 0 and without the frames starting with '
            '15_Rechbergstr_Deckenpfronn, 01_Hanns_Klemm_Str_45_000006, '
            '01_Hanns_Klemm_Str_45_000007, 10_Schlossberg_9_000004)',
            measured=_LAF_MEASURED),
        Release(
            'LostAndFound-train', 1036, _values(range(0, 201)), (1024, 2048),
            when=(('split', 'train'), ),
            source=f'{SMIYC_KIT}tracks.py (LostAndFound-train, '
            'expected_length 1036)',
            measured=_LAF_MEASURED),
    ),
    'StreetHazardsDataset': (
        Release(
            'StreetHazards training', None, _SH_INLIER_VALUES, (720, 1280),
            when=(('split', 'training'), ),
            source=f'{CAOS_KIT}: create_dataset.py (train/images/training, '
            '1280x720), dataset.py (label - 1); the frame count is given '
            'in the paper, which could not be read here',
            measured=_SH_MEASURED),
        Release(
            'StreetHazards validation', None, _SH_INLIER_VALUES,
            (720, 1280), when=(('split', 'validation'), ),
            source=f'{CAOS_KIT}: create_dataset.py '
            '(train/images/validation, 1280x720)',
            measured=_SH_MEASURED),
    ),
    'StreetHazardsAnomalyDataset': (
        Release(
            'StreetHazards test', None, _SH_TEST_VALUES, (720, 1280),
            source=f'{CAOS_KIT}: create_dataset.py (test/images/test, '
            '1280x720), defaults.py OOD.out_labels (13,) after the -1 of '
            'dataset.py: raw 14 is the anomaly',
            measured=_SH_MEASURED), ),
    'BDDAnomalyDataset': (
        Release(
            'BDD-Anomaly test (frames with train, motorcycle or bicycle)',
            810, _BDD_VALUES, (720, 1280),
            frame_ids=frozenset(FROM_TRAIN + FROM_VAL),
            source=f'{CAOS_KIT}: create_bdd_dataset.py moves every frame '
            'holding one of the three classes to the anomaly set; counted on '
            'the authors\' seg/labels: 720 of 7000 train + 90 of 1000 val',
            measured=_BDD_MEASURED), ),
}


def releases_of(dataset: object) -> Tuple[Release, ...]:
    """The candidate releases of a dataset given its settings.

    A dataset built with ``releases=[...]`` uses those (e.g. a test's
    miniature table); otherwise the table entry of its class.
    """
    own = getattr(dataset, 'release_table', None)
    table = own if own is not None else RELEASES.get(type(dataset).__name__,
                                                     ())
    return tuple(r for r in table if r.applies_to(dataset))


def as_release(spec: Union[Release, dict]) -> Release:
    """A :class:`Release` from itself or a config dict of its fields."""
    if isinstance(spec, Release):
        return spec
    spec = dict(spec)
    for key in ('label_values', 'frame_ids'):
        if spec.get(key) is not None:
            spec[key] = frozenset(spec[key])
    if spec.get('image_size') is not None:
        spec['image_size'] = tuple(spec['image_size'])
    when = spec.get('when') or ()
    if isinstance(when, dict):
        when = when.items()
    spec['when'] = tuple(tuple(pair) for pair in when)
    return Release(**spec)


@dataclass
class Survey:
    """What is on disk: measured facts, each with the frames behind it.

    Args:
        frame_ids: Ids of the listed frames.
        value_frames: Raw label value -> ids of the frames holding it
            (empty when labels were not read).
        size_frames: ``(height, width)`` -> ids of the frames of that size
            (empty when images were not read).
        anomaly_pixels: Pixels labelled anomaly (after the value map).
        valid_pixels: Pixels labelled inlier or anomaly.
        labels_read: Whether label values and sizes were measured.
    """

    frame_ids: List[str]
    value_frames: Dict[int, List[str]] = field(default_factory=dict)
    size_frames: Dict[Tuple[int, int], List[str]] = field(
        default_factory=dict)
    anomaly_pixels: int = 0
    valid_pixels: int = 0
    labels_read: bool = False

    @property
    def anomaly_share(self) -> Optional[float]:
        """Anomaly pixels over valid pixels; None without labels."""
        if not self.labels_read or not self.valid_pixels:
            return None
        return self.anomaly_pixels / self.valid_pixels


@dataclass
class ReleaseCheck:
    """The outcome of comparing a survey with the candidate releases.

    Args:
        matched: The release the folder matches, or None.
        closest: The release with the fewest differences (the match if
            any), None when the dataset has no release table.
        differences: What differs from ``closest`` (empty on a match).
    """

    matched: Optional[Release]
    closest: Optional[Release]
    differences: List[str]


def _ids(ids: Iterable[str], limit: int = 5) -> str:
    ids = sorted(ids)
    shown = ', '.join(ids[:limit])
    return shown + (f' (+{len(ids) - limit} more)'
                    if len(ids) > limit else '')


def _size(size: Tuple[int, int]) -> str:
    return f'{size[1]}x{size[0]}'


def compare(survey: Survey, release: Release) -> List[str]:
    """Every difference between the folder and a release, with frame ids.

    Args:
        survey: The measured folder.
        release: The release to compare with.

    Returns:
        list[str]: One sentence per difference; empty when they agree on
        every fact the release records and the survey measured.
    """
    out = []
    n = len(survey.frame_ids)
    if release.frames is not None and n != release.frames:
        out.append(f'{n} frame{"" if n == 1 else "s"}, the release has '
                   f'{release.frames}')
    if release.frame_ids is not None:
        have = set(survey.frame_ids)
        missing = release.frame_ids - have
        extra = have - release.frame_ids
        if missing:
            out.append(f'missing frames: {_ids(missing)}')
        if extra:
            out.append(f'frames not in the release: {_ids(extra)}')
    if survey.labels_read and release.label_values is not None:
        for value in sorted(set(survey.value_frames) - release.label_values):
            out.append(f'label value {value}, foreign to the release, in '
                       f'frames: {_ids(survey.value_frames[value])}')
    if survey.labels_read and release.image_size is not None:
        for size in sorted(set(survey.size_frames) - {release.image_size}):
            out.append(f'image size {_size(size)} (release: '
                       f'{_size(release.image_size)}) in frames: '
                       f'{_ids(survey.size_frames[size])}')
    return out


def match_release(survey: Survey,
                  releases: Sequence[Release]) -> ReleaseCheck:
    """The release a folder matches, or the closest one and how it differs.

    Args:
        survey: The measured folder.
        releases: Candidate releases (those that apply to the dataset).

    Returns:
        ReleaseCheck: See the class.
    """
    if not releases:
        return ReleaseCheck(None, None, [])
    diffs = [(compare(survey, r), i, r) for i, r in enumerate(releases)]
    best, _, closest = min(diffs, key=lambda d: (len(d[0]), d[1]))
    return ReleaseCheck(closest if not best else None, closest, best)


def _raw_label_roles(value_map: Optional[Dict[int, int]]
                     ) -> Tuple[np.ndarray, np.ndarray]:
    """Per raw value: whether it means anomaly, whether it is valid."""
    lut = np.arange(256)
    for raw, new in (value_map or {}).items():
        lut[int(raw)] = int(new)
    return lut == 1, (lut == 0) | (lut == 1)


def survey_dataset(dataset, read_labels: bool = True) -> Survey:
    """Measure a built dataset: frame ids, label values, sizes, anomalies.

    Args:
        dataset: A dataset whose data infos carry ``frame_id``,
            ``img_path`` and ``seg_map_path``.
        read_labels: Read every label (values, anomaly share) and every
            image header (size). False: frame ids only (cheap).

    Returns:
        Survey: The measured facts.
    """
    import cv2
    from PIL import Image

    from mmseg_be.utils.image_io import read_image

    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    survey = Survey(frame_ids=[str(info['frame_id']) for info in infos])
    if not read_labels:
        return survey
    survey.labels_read = True
    anomaly, valid = _raw_label_roles(getattr(dataset, 'VALUE_MAP', None))
    ood_labels = getattr(dataset, 'OOD_LABELS', True)
    for info in infos:
        fid = str(info['frame_id'])
        with Image.open(info['img_path']) as image:
            width, height = image.size
        survey.size_frames.setdefault((height, width), []).append(fid)
        path = info.get('seg_map_path')
        if not path:
            continue
        label = read_image(path, cv2.IMREAD_UNCHANGED)
        if label.ndim == 3:
            label = label[..., 0]
        counts = np.bincount(label.ravel(), minlength=256)
        for value in np.flatnonzero(counts):
            survey.value_frames.setdefault(int(value), []).append(fid)
        if ood_labels:
            survey.anomaly_pixels += int(counts[anomaly[:len(counts)]].sum())
            survey.valid_pixels += int(counts[valid[:len(counts)]].sum())
    return survey


def format_check(name: str, root: str, survey: Survey,
                 check: ReleaseCheck) -> str:
    """A short report: release, frame count, anomaly share, differences."""
    lines = [f'{name} ({root})']
    if check.closest is None:
        lines.append('  release:  no release table for this dataset')
    elif check.matched is not None:
        lines.append(f'  release:  {check.matched.name} (matches)')
    else:
        lines.append(f'  release:  NO MATCH; closest: {check.closest.name}')
    lines.append(f'  frames:   {len(survey.frame_ids)}')
    share = survey.anomaly_share
    if survey.labels_read:
        lines.append('  anomaly:  ' + (
            f'{100 * share:.2f}% of {survey.valid_pixels} valid pixels'
            if share is not None else 'n/a (no inlier/anomaly pixels)'))
        values = sorted(survey.value_frames)
        lines.append(f'  labels:   values {_compact(values)}')
    for diff in check.differences:
        lines.append(f'  differs:  {diff}')
    if check.closest is not None and check.closest.source:
        lines.append(f'  source:   {check.closest.source}')
    return '\n'.join(lines)


def _compact(values: Sequence[int]) -> str:
    parts, start = [], 0
    for i in range(1, len(values) + 1):
        if i < len(values) and values[i] == values[i - 1] + 1:
            continue
        first, last = values[start], values[i - 1]
        if last - first > 1:
            parts.append(f'{first}..{last}')
        else:
            parts.extend(str(v) for v in range(first, last + 1))
        start = i
    return ', '.join(parts) if parts else '(none)'


def mismatch_message(name: str, root: str, check: ReleaseCheck) -> str:
    """The one warning text of a folder that matches no release."""
    release = check.closest
    return (f'{name} at {root} matches no known release. Closest: '
            f'{release.name} ({release.source}). Differences: '
            f'{"; ".join(check.differences)}. How published numbers were '
            f'measured: {release.measured}. The dataset '
            'loads as it is; numbers measured on it are not comparable '
            'with those. tools/check_datasets.py reports the full check '
            '(labels, sizes).')


class ReleaseCheckMixin:
    """Checks a dataset's frames against its releases when it is built.

    Mixed into a dataset class before ``BaseSegDataset``. After
    ``full_init`` the frame ids (and, with ``release_check='full'``, every
    label and image size) are compared with the candidate releases; if none
    matches, one :class:`ReleaseMismatchWarning` names the differences.
    """

    RELEASE_CHECKS = ('off', 'frames', 'full')

    def _init_release_check(self, releases: Optional[Sequence],
                            release_check: str) -> None:
        if release_check not in self.RELEASE_CHECKS:
            raise ValueError(
                f'{type(self).__name__}: release_check must be one of '
                f'{self.RELEASE_CHECKS}, got {release_check!r}.')
        self.release_check = release_check
        self.release_table = (tuple(as_release(r) for r in releases)
                              if releases is not None else None)

    def full_init(self) -> None:
        """mmengine's ``full_init``, then the release check."""
        if getattr(self, '_fully_initialized', False):
            return
        super().full_init()
        if self.release_check == 'off':
            return
        survey = survey_dataset(self,
                                read_labels=self.release_check == 'full')
        check = match_release(survey, releases_of(self))
        if check.closest is not None and check.matched is None:
            warnings.warn(
                mismatch_message(type(self).__name__,
                                 osp.normpath(str(self.data_root or '')),
                                 check), ReleaseMismatchWarning)
