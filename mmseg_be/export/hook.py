"""A test hook that writes a benchmark submission while the test runs.

``tools/test.py --submission DIR`` adds it to ``custom_hooks``; it can also be put in
a config::

    custom_hooks = [dict(type='SubmissionExportHook', out_dir='submission',
                         format='smiyc', method='balanced_energy',
                         dataset='AnomalyTrack-all')]

The exported score is the config's ``anomaly_score`` (handed over by
:class:`~mmseg_be.engine.AnomalyScoreHook` before the test starts), so the
submission holds exactly the maps ``PixelOODMetric`` evaluates.
"""
import logging
import os.path as osp
from typing import Optional, Sequence, Tuple

from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmseg_be.scoring import (AnomalyScoreUser, describe_anomaly_score,
                              scores_from_sample)
from .fishyscapes import FISHYSCAPES_SIZE, FishyscapesExporter
from .mapping import ScoreMapping
from .smiyc import SMIYCExporter

FORMATS = ('smiyc', 'fishyscapes')
Size = Tuple[int, int]


def frame_id_of(data_sample) -> str:
    """The frame id of a test output: its image file name without suffix."""
    path = data_sample.metainfo.get('img_path')
    if not path:
        raise ValueError('The data sample has no img_path, so its frame id is '
                         'unknown; load images with LoadImageFromFile.')
    return osp.splitext(osp.basename(path))[0]


@HOOKS.register_module()
class SubmissionExportHook(Hook, AnomalyScoreUser):
    """Compute anomaly scores of every test image and queue their export.

    Args:
        out_dir: Submission root.
        method: Method name recorded in (and, for SMIYC, part of) the layout.
        format: ``'smiyc'`` or ``'fishyscapes'``.
        dataset: SMIYC dataset folder, e.g. ``'AnomalyTrack-all'``.
        anomaly_score: The score setting; normally None, taken from the
            config's ``anomaly_score`` by ``AnomalyScoreHook``.
        score: Legacy: the score name (use ``anomaly_score``).
        score_cfg: Legacy: extra score arguments (use ``anomaly_score``).
        mapping: SMIYC only: a :class:`ScoreMapping` as a dict, or None to
            calibrate on the first ``calib_frames`` frames.
        calib_frames: Frames that calibrate the SMIYC mapping.
        fishyscapes_size: Fishyscapes only: ``(H, W)`` of the written maps
            (None keeps the input size).
        overwrite: Replace another method's export instead of refusing.
        max_queue: Frames that may wait for the background writer.
    """

    priority = 'LOW'

    def __init__(self,
                 out_dir: str,
                 method: str,
                 format: str = 'smiyc',
                 dataset: Optional[str] = None,
                 anomaly_score: Optional[dict] = None,
                 score: Optional[str] = None,
                 score_cfg: Optional[dict] = None,
                 mapping: Optional[dict] = None,
                 calib_frames: int = 8,
                 fishyscapes_size: Optional[Size] = FISHYSCAPES_SIZE,
                 overwrite: bool = False,
                 max_queue: int = 8) -> None:
        if format not in FORMATS:
            raise ValueError(f'Unknown submission format {format!r}; use one '
                             f'of {FORMATS}.')
        if format == 'smiyc' and not dataset:
            raise ValueError('A SMIYC export needs the dataset folder name, '
                             'e.g. dataset="AnomalyTrack-all".')
        self.out_dir = out_dir
        self.method = method
        self.format = format
        self.dataset = dataset
        self._init_anomaly_score(anomaly_score, score=score,
                                 **dict(score_cfg or {}))
        self.mapping = (ScoreMapping.from_dict(mapping)
                        if mapping is not None else None)
        self.calib_frames = calib_frames
        self.fishyscapes_size = fishyscapes_size
        self.overwrite = overwrite
        self.max_queue = max_queue
        self.exporter = None

    def _make_exporter(self, lock: bool = True):
        if self.format == 'smiyc':
            return SMIYCExporter(self.out_dir, self.method, self.dataset,
                                 describe_anomaly_score(self.anomaly_score),
                                 mapping=self.mapping,
                                 calib_frames=self.calib_frames,
                                 overwrite=self.overwrite,
                                 max_queue=self.max_queue, lock=lock)
        return FishyscapesExporter(self.out_dir, self.method,
                                   describe_anomaly_score(self.anomaly_score),
                                   size=self.fishyscapes_size,
                                   overwrite=self.overwrite,
                                   max_queue=self.max_queue, lock=lock)

    def before_test(self, runner) -> None:
        rank, world_size = get_dist_info()
        if world_size > 1 and self.format == 'smiyc' and self.mapping is None:
            raise ValueError(
                'A distributed SMIYC export needs a fixed score mapping '
                '(each process would calibrate its own); pass mapping=dict('
                "kind='minmax', low=..., high=...) or test in one process.")
        # Rank 0 takes the folder's lock, checks the folder and writes the
        # manifest first; the others then find a matching manifest and join
        # in under rank 0's lock.
        if rank == 0:
            self.exporter = self._make_exporter()
        barrier()
        if rank != 0:
            self.overwrite = False
            self.exporter = self._make_exporter(lock=False)

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: dict = None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs or ():
            frame_id = frame_id_of(sample)
            scores = scores_from_sample(sample, self.anomaly_score)
            if self.format == 'smiyc':
                self.exporter.add(frame_id, scores)
            else:
                self.exporter.add(frame_id, scores,
                                  sample.pred_sem_seg.data[0])

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        exporter, self.exporter = self.exporter, None
        exporter.close()
        print_log(
            f'Submission ({self.format}, method {self.method!r}) in '
            f'{self.out_dir}: {exporter.num_submitted} frames written, '
            f'{exporter.num_skipped} already there (resumed).',
            logger='current', level=logging.INFO)
