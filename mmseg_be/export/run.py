"""The logic behind ``tools/export.py``: images in, a submission out.

The model stays outside this layer: :func:`export_images` takes a function
that predicts one image file (in the tool, an
:class:`~mmseg_be.apis.AnomalyInferencer`).
"""
import logging
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmseg_be.utils.image_io import UnreadableImageError
from .base import SubmissionExporter
from .fishyscapes import FishyscapesExporter
from .mapping import ScoreMapping
from .smiyc import SMIYCExporter

#: Predicts one image file: ``(H, W)`` anomaly scores and segmentation.
Predictor = Callable[[str], Tuple[np.ndarray, np.ndarray]]


@dataclass
class ExportReport:
    """Frames written, skipped as already exported, and failed."""
    written: List[str] = field(default_factory=list)
    resumed: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)


def frame_id_from_path(path: str, strip_suffix: str = '') -> str:
    """Stem of an image file minus an optional suffix (``_leftImg8bit``)."""
    stem = osp.splitext(osp.basename(path))[0]
    if strip_suffix and stem.endswith(strip_suffix):
        stem = stem[:-len(strip_suffix)]
    return stem


def make_exporter(out_dir: str,
                  method: str,
                  format: str = 'smiyc',
                  dataset: Optional[str] = None,
                  score: str = 'energy',
                  mapping: Optional[ScoreMapping] = None,
                  calib_frames: int = 8,
                  fishyscapes_size: Optional[Tuple[int, int]] = (1024, 2048),
                  overwrite: bool = False,
                  max_queue: int = 8) -> SubmissionExporter:
    """Open (check, or refuse) the output folder and start the writer.

    Called before the model is loaded, so a refused folder fails fast.
    Arguments as in :class:`SMIYCExporter` / :class:`FishyscapesExporter`.
    """
    if format == 'smiyc':
        if not dataset:
            raise ValueError('A SMIYC export needs --dataset-name, e.g. '
                             'AnomalyTrack-all or ObstacleTrack-all.')
        return SMIYCExporter(out_dir, method, dataset, score, mapping,
                             calib_frames, overwrite=overwrite,
                             max_queue=max_queue)
    if format == 'fishyscapes':
        return FishyscapesExporter(out_dir, method, score, fishyscapes_size,
                                   overwrite, max_queue)
    raise ValueError(f'Unknown format {format!r}; use smiyc or fishyscapes.')


def export_images(predict: Predictor,
                  images: Sequence[str],
                  exporter: SubmissionExporter,
                  strip_suffix: str = '',
                  progress: bool = True) -> ExportReport:
    """Predict image files one by one and write a submission.

    Frames already exported (valid final file) are skipped before inference,
    unreadable images (missing, a broken link, truncated, corrupt: the
    predictor raises :class:`~mmseg_be.utils.image_io.UnreadableImageError`,
    as the inferencer's reader does) are skipped and listed in the report
    and in the manifest's ``unreadable``;
    writing runs in a background thread and its errors are raised here (a
    write error as :class:`~mmseg_be.export.writer.ExportWriteError`, with
    no partial file left). The exporter is closed at the end.

    Args:
        predict: Image file -> ``(scores, seg)``, e.g.
            :meth:`mmseg_be.apis.AnomalyInferencer.predict_file`; its score
            setting's description must be the exporter's ``score``.
        images: Image files; frame ids are their stems.
        exporter: From :func:`make_exporter`.
        strip_suffix: Removed from the end of file stems to form frame ids.
        progress: Show a tqdm progress bar.

    Returns:
        ExportReport: What happened to every image.
    """
    from tqdm import tqdm

    smiyc = isinstance(exporter, SMIYCExporter)
    ids = [frame_id_from_path(p, strip_suffix) for p in images]
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        raise ValueError(f'Several images share the frame ids {duplicates[:5]}'
                         f'; frame ids are file stems and must be unique.')
    report = ExportReport()
    with exporter:
        for path, frame_id in tqdm(list(zip(images, ids)), desc='export',
                                   disable=not progress):
            if not exporter.overwrite and exporter.frame_done(frame_id):
                report.resumed.append(frame_id)
                exporter.num_skipped += 1
                continue
            try:
                scores, seg = predict(path)
            except UnreadableImageError as error:
                report.failed.append((path, error.reason))
                continue
            if smiyc:
                exporter.add(frame_id, scores)
            else:
                exporter.add(frame_id, scores, seg)
            report.written.append(frame_id)
        done = set(report.written) | set(report.resumed)
        exporter.record_unreadable(
            report.failed, [p for p, i in zip(images, ids) if i in done])
    for path, reason in report.failed:
        print_log(f'Skipped unreadable image {path}: {reason}',
                  logger='current', level=logging.WARNING)
    return report
