"""Anomaly inference on images: :class:`AnomalyInferencer`.

Shaped like MMSeg's ``MMSegInferencer``: built from a config and a
checkpoint, called on image files, a folder, a glob or numpy arrays, with
``batch_size``, a progress bar, ``out_dir`` and ``show``. Each image gives its
anomaly scores (the config's one ``anomaly_score`` setting, see
:func:`mmseg_be.scoring.anomaly_score_settings`), its segmentation and, with
a threshold, the final prediction (the segmentation with an anomaly class
where the score passes the threshold)::

    from mmseg_be.apis import AnomalyInferencer
    inferencer = AnomalyInferencer('path/to/config.py', 'model.pth',
                                   threshold='tpr95:work_dirs/eval')
    out = inferencer('frames/', batch_size=2, out_dir='vis')
    out['predictions'][0].scores   # (H, W) float32, higher = more anomalous

``tools/visualize.py`` (:func:`~mmseg_be.apis.heat_maps.visualize_images`), ``tools/export.py``
(:meth:`AnomalyInferencer.predict_file`) and ``tools/estimate_prior.py`` (the
loaded :attr:`AnomalyInferencer.model`) use it.

Images go through the config's ``test_pipeline`` as in MMSeg's
``MMSegInferencer``: the annotation loaders are removed and the image loader
replaced, both found by their exact type names (:data:`ANNOTATION_LOADERS`,
:data:`IMAGE_LOADERS`). Files are read by
:class:`~mmseg_be.datasets.transforms.LoadImageStoredOrientation`, the
project's one image reader (stored orientation, EXIF ignored; an unreadable
file is an error naming it), arrays by ``LoadImageFromNDArray``; for an
image without an EXIF orientation tag the scores equal
:func:`~mmseg_be.scoring.scores_from_logits` of
``mmseg.apis.inference_model``'s logits.

Folders are searched by :func:`find_images`: each real file once (a link
that leads back into the walk or to a file already found is skipped),
broken links kept so that reading names them, in sorted order.
"""
import copy
import glob
import logging
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import (Any, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log

from mmseg_be.engine.anomaly_score_hook import adopt_anomaly_score
from mmseg_be.engine.checkpoint_fit import (check_checkpoint_fits,
                                            read_checkpoint)
from mmseg_be.scoring import NonFiniteScoreError, scores_from_logits
from mmseg_be.utils import config_path
from mmseg_be.utils.image_io import UnreadableImageError, read_image
from mmseg_be.visualization.anomaly_visualizer import (
    anomaly_panels, final_prediction_title, paint_final_prediction,
    paint_segmentation, upscale_factor)
from mmseg_be.visualization.colormap import score_range
from mmseg_be.visualization.prediction import (ThresholdSpec,
                                               final_prediction,
                                               resolve_threshold)

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

InputType = Union[str, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]


@dataclass
class FoundImages:
    """What :func:`find_images` found."""
    #: Image files, each real file once, sorted (broken links included).
    paths: List[str] = field(default_factory=list)
    #: Broken symbolic links among ``paths``.
    broken: List[str] = field(default_factory=list)
    #: ``(path, kept)``: a path reaching a file already found as ``kept``.
    duplicates: List[Tuple[str, str]] = field(default_factory=list)
    #: ``(folder, first)``: a folder (through a link) already searched as
    #: ``first``, or leading back into the walk (a link loop).
    repeated_folders: List[Tuple[str, str]] = field(default_factory=list)


def _is_image_name(path: str) -> bool:
    return path.lower().endswith(IMAGE_SUFFIXES)


def _walk(folder: str, found: FoundImages) -> List[str]:
    """Image files under ``folder``, following links to folders, each real
    folder and file once; hidden names skipped (as glob skips them)."""
    paths: List[str] = []
    seen_dirs: Dict[str, str] = {}
    seen_files: Dict[str, str] = {}
    pending = [folder]
    while pending:
        current = pending.pop()
        real = osp.realpath(current)
        if real in seen_dirs:
            found.repeated_folders.append((current, seen_dirs[real]))
            continue
        seen_dirs[real] = current
        try:
            names = sorted(os.listdir(current))
        except OSError as error:
            raise FileNotFoundError(f'Cannot list {current}: {error}') \
                from error
        subfolders = []
        for name in names:
            if name.startswith('.'):
                continue
            path = osp.join(current, name)
            if osp.isdir(path):
                subfolders.append(path)
            elif _is_image_name(path):
                if osp.islink(path) and not osp.exists(path):
                    found.broken.append(path)
                    paths.append(path)
                    continue
                if not osp.isfile(path):
                    continue
                target = osp.realpath(path)
                if target in seen_files:
                    found.duplicates.append((path, seen_files[target]))
                    continue
                seen_files[target] = path
                paths.append(path)
        # Depth first, in name order: the first path to a file is kept.
        pending.extend(reversed(subfolders))
    return paths


def find_images(spec: str) -> FoundImages:
    """Image files named by a file, a folder (recursive) or a glob.

    A folder is walked following links, but each real folder and each real
    file is taken once: a link loop (``loop -> .``) or a second path to the
    same file is skipped and reported. Broken links with an image suffix
    are kept (reading them names the missing target) and reported.

    Args:
        spec: A path to an image, a folder, or a glob pattern.

    Returns:
        FoundImages: Sorted paths and what was skipped or broken.

    Raises:
        FileNotFoundError: Nothing matches.
    """
    found = FoundImages()
    if osp.isfile(spec) or (osp.islink(spec) and not osp.exists(spec)):
        found.paths = [spec]
        if not osp.exists(spec):
            found.broken = [spec]
    elif osp.isdir(spec):
        found.paths = _walk(spec, found)
    else:
        seen: Dict[str, str] = {}
        for path in sorted(glob.glob(spec, recursive=True)):
            if osp.islink(path) and not osp.exists(path):
                found.broken.append(path)
                found.paths.append(path)
            elif osp.isfile(path):
                target = osp.realpath(path)
                if target in seen:
                    found.duplicates.append((path, seen[target]))
                else:
                    seen[target] = path
                    found.paths.append(path)
    if not found.paths:
        raise FileNotFoundError(
            f'No images found for {spec!r}: pass an image file, a folder '
            f'holding {"/".join(IMAGE_SUFFIXES)} files, or a glob such as '
            f'"data/*.png" (quoted).')
    found.paths.sort()
    return found


def collect_images(spec: str) -> List[str]:
    """Image files named by a file, a folder (recursive) or a glob: the
    paths of :func:`find_images`, with what it skipped or found broken
    logged as warnings.

    Args:
        spec: A path to an image, a folder, or a glob pattern.

    Returns:
        list[str]: Sorted file paths, each real file once.

    Raises:
        FileNotFoundError: Nothing matches.
    """
    found = find_images(spec)
    for folder, first in found.repeated_folders:
        print_log(f'Skipped {folder}: the same folder as {first} (a link '
                  'loop or a second link to it), searched once.',
                  logger='current', level=logging.WARNING)
    for path, kept in found.duplicates:
        print_log(f'Skipped {path}: the same file as {kept} (through a '
                  'link), taken once.', logger='current',
                  level=logging.WARNING)
    for path in found.broken:
        print_log(f'{path} is a broken symbolic link (to '
                  f'{os.readlink(path)!r}); it will be listed as unreadable.',
                  logger='current', level=logging.WARNING)
    return found.paths


def read_rgb(path: str) -> np.ndarray:
    """An image file as uint8 RGB, in stored orientation.

    Raises:
        UnreadableImageError: The file is missing, a broken link, empty,
            truncated or not an image (the message names it).
    """
    return np.ascontiguousarray(read_image(path, cv2.IMREAD_COLOR)[..., ::-1])


def dataset_image_paths(cfg: Config) -> List[str]:
    """Image files of a config's ``export_dataloader`` (the benchmark's
    unlabelled test frames, where a config defines one) or else its
    ``test_dataloader``, in dataset order."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = cfg.get('export_dataloader') or cfg.test_dataloader
    dataset_cfg = loader.dataset.copy()
    dataset_cfg['lazy_init'] = False
    dataset = DATASETS.build(dataset_cfg)
    return [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]


@dataclass
class AnomalyPrediction:
    """What :class:`AnomalyInferencer` returns for one image."""
    scores: np.ndarray  #: (H, W) float32 anomaly scores
    seg: np.ndarray  #: (H, W) int64 in-distribution classes
    #: (H, W) int64 classes with ``anomaly_id`` where the score passes the
    #: threshold; None without a threshold.
    final: Optional[np.ndarray]
    anomaly_id: int  #: the anomaly class id: the number of model classes
    threshold: Optional[float]
    img_path: Optional[str] = None  #: the input file; None for an array


#: Annotation loaders removed from the test pipeline (MMSeg's and this
#: package's), by exact type name as MMSegInferencer removes them.
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadDepthAnnotation',
                      'LoadBiomedicalAnnotation', 'LoadOODAnnotations')
#: Image loaders of a test pipeline, by exact type name: replaced by
#: ``LoadImageStoredOrientation`` for files, ``LoadImageFromNDArray`` for
#: arrays.
IMAGE_LOADERS = ('LoadImageFromFile', 'LoadImageStoredOrientation')
ON_ERROR = ('raise', 'skip')


def _type_name(step: dict) -> str:
    kind = step.get('type', '')
    return kind if isinstance(kind, str) else getattr(kind, '__name__', '')


def inference_pipeline(pipeline: Sequence[dict]) -> List[dict]:
    """A test pipeline for unlabelled images: the annotation loaders
    (:data:`ANNOTATION_LOADERS`) removed.

    Raises:
        ValueError: The pipeline has no image loader of
            :data:`IMAGE_LOADERS`, or several.
    """
    steps = [dict(t) for t in pipeline
             if _type_name(t) not in ANNOTATION_LOADERS]
    loaders = [_type_name(t) for t in steps if _type_name(t) in IMAGE_LOADERS]
    if len(loaders) != 1:
        raise ValueError(
            f'The test pipeline {[_type_name(t) for t in steps]} has '
            f'{len(loaders)} image loaders; the inferencer needs exactly one '
            f'of {IMAGE_LOADERS} to read the images.')
    return steps


def output_stems(paths: Sequence[str]) -> Dict[str, str]:
    """Output names (without suffix) of image files: relative to their
    common folder, so equal names in different sub-folders do not clash."""
    if not paths:
        return {}
    absolute = {p: osp.abspath(p) for p in paths}
    root = (osp.commonpath(list(absolute.values())) if len(set(
        absolute.values())) > 1 else osp.dirname(absolute[paths[0]]))
    return {p: osp.splitext(osp.relpath(a, root))[0]
            for p, a in absolute.items()}


class AnomalyInferencer:
    """Anomaly scores, segmentation and final prediction of images.

    Args:
        model: Config file (a path, or relative to the project's
            ``configs/``) or a loaded ``Config``.
        weights: Checkpoint file (or a URL mmengine downloads).
        device: Torch device; None: ``cuda:0`` if available, else ``cpu``.
        anomaly_score: Keys overriding the config's ``anomaly_score`` (as
            ``--score`` / ``--score-options`` do), e.g.
            ``dict(name='max_logit')``; None: the config's setting as it is.
        threshold: None (no final prediction), a number, ``'tpr95:PATH'`` /
            ``'best_f1:PATH'`` (PATH an evaluation's ``pixel_ood_curves.json``
            or its folder) or ``dict(curves=PATH, rule=...)``; see
            :func:`~mmseg_be.visualization.prediction.resolve_threshold`.
        cfg_options: Overrides merged into the config.
        partial_load: Model parts (``backbone``, ``decode_head.conv_seg``)
            the checkpoint may leave as initialised; any other missing,
            left-over or mis-sized weight is an error.

    Raises:
        FileNotFoundError: The checkpoint file does not exist.
        CheckpointReadError: The checkpoint is empty, truncated, corrupt, of
            another format or holds no weights (the message names it).
        KeyError, ValueError: A bad score setting or threshold; a test
            pipeline without an image loader.
        CheckpointMismatchError: The checkpoint does not fit the model.
        AnomalyScoreConflictError: A component of the config names a score
            other than the run's ``anomaly_score``.
    """

    def __init__(self,
                 model: Union[str, Config],
                 weights: str,
                 device: Optional[str] = None,
                 anomaly_score: Optional[dict] = None,
                 threshold: ThresholdSpec = None,
                 cfg_options: Optional[dict] = None,
                 partial_load: Sequence[str] = ()) -> None:
        from mmseg.apis import init_model

        # Read first: a missing, truncated or foreign file stops here, named.
        checkpoint = read_checkpoint(weights)
        cfg = (copy.deepcopy(model) if isinstance(model, Config) else
               Config.fromfile(config_path(model)))
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        # The config's one setting with the overrides; a metric, visualizer
        # or hook of the config naming another score is an error.
        self.anomaly_score: Dict[str, Any] = adopt_anomaly_score(
            cfg, anomaly_score)
        self.threshold: Optional[float] = resolve_threshold(
            threshold, self.anomaly_score)
        if device is None:
            device = 'cuda:0' if torch.cuda.is_available() else 'cpu'
        # The config's test_pipeline, else its test dataset's (as
        # MMSegInferencer reads it), checked before the model is built.
        pipeline = inference_pipeline(
            cfg.get('test_pipeline') or cfg.test_dataloader.dataset.pipeline)
        self.model = init_model(cfg, weights, device=device)
        check_checkpoint_fits(self.model, checkpoint, partial_load,
                              model if isinstance(model, str) else '',
                              checkpoint_name=weights)
        del checkpoint
        self.model.cfg.test_pipeline = pipeline
        self._pipelines: Dict[bool, Any] = {}
        self.num_visualized = 0

    @property
    def cfg(self) -> Config:
        """The model's config (with the overrides)."""
        return self.model.cfg

    @property
    def palette(self) -> list:
        """The checkpoint's class colours (empty if it names none)."""
        meta = getattr(self.model, 'dataset_meta', None) or {}
        return meta.get('palette') or []

    def _pipeline(self, array: bool):
        """The test pipeline for files or (``array``) numpy images."""
        if array not in self._pipelines:
            from mmcv.transforms import Compose
            steps = [dict(t) for t in self.cfg.test_pipeline]
            for step in steps:
                if _type_name(step) in IMAGE_LOADERS:
                    # The one reader of the project decodes files; the
                    # arguments of another decoder do not apply.
                    step.pop('imdecode_backend', None)
                    step.pop('file_client_args', None)
                    step['type'] = ('LoadImageFromNDArray' if array else
                                    'LoadImageStoredOrientation')
            self._pipelines[array] = Compose(steps)
        return self._pipelines[array]

    def _load(self, item: InputType) -> dict:
        """One input through the test pipeline (``inputs``, ``data_samples``).

        Raises:
            UnreadableImageError: A file that cannot be read (named).
        """
        if isinstance(item, np.ndarray):
            return self._pipeline(True)(dict(img=item))
        return self._pipeline(False)(dict(img_path=item))

    def _run(self, packed: Sequence[dict]) -> list:
        data = dict(inputs=[p['inputs'] for p in packed],
                    data_samples=[p['data_samples'] for p in packed])
        with torch.no_grad():
            return self.model.test_step(data)

    def forward(self, inputs: Sequence[InputType]) -> list:
        """One forward pass over a batch: MMSeg's ``SegDataSample`` outputs.

        Images of one batch must have the same size after the pipeline (as
        in MMSeg); their ``seg_logits`` are at each image's own size.
        """
        return self._run([self._load(item) for item in inputs])

    def postprocess(self, data_sample,
                    img_path: Optional[str] = None,
                    where: str = 'image') -> AnomalyPrediction:
        """Scores, segmentation and final prediction of one test output."""
        logits = data_sample.seg_logits.data
        scores = scores_from_logits(logits, self.anomaly_score,
                                    img_path or where)
        seg = data_sample.pred_sem_seg.data.cpu().numpy()[0].astype(np.int64)
        anomaly_id = int(logits.shape[0])
        final = None if self.threshold is None else final_prediction(
            seg, scores, self.threshold, anomaly_id)
        return AnomalyPrediction(scores, seg, final, anomaly_id,
                                 self.threshold, img_path)

    @staticmethod
    def _inputs_to_list(inputs: InputsType) -> List[InputType]:
        if isinstance(inputs, np.ndarray):
            return [inputs]
        if isinstance(inputs, str):
            return list(collect_images(inputs))
        return list(inputs)

    def _predict_items(
            self, items: Sequence[InputType], batch_size: int,
            progress: bool, skipped: Optional[List[Tuple[str, str]]]
    ) -> Iterator[Tuple[InputType, AnomalyPrediction]]:
        """``(input, prediction)`` in input order; see :meth:`predict`."""
        from tqdm import tqdm
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}.')

        def name(index: int) -> str:
            item = items[index]
            return item if isinstance(item, str) else f'array {index}'

        batch: List[Tuple[int, dict]] = []
        with tqdm(total=len(items), desc='inference', unit='img',
                  disable=not progress) as bar:
            for index, item in enumerate(items):
                try:
                    batch.append((index, self._load(item)))
                except UnreadableImageError as error:
                    if skipped is None:
                        raise
                    skipped.append((name(index), error.reason))
                    bar.update(1)
                if batch and (len(batch) == batch_size
                              or index == len(items) - 1):
                    samples = self._run([packed for _, packed in batch])
                    done = []
                    for (i, _), sample in zip(batch, samples):
                        path = items[i] if isinstance(items[i], str) else None
                        try:
                            done.append((items[i], self.postprocess(
                                sample, path, name(i))))
                        except NonFiniteScoreError as error:
                            if skipped is None:
                                raise
                            skipped.append((name(i), str(error)))
                    bar.update(len(batch))
                    batch = []
                    yield from done

    def predict(self,
                inputs: InputsType,
                batch_size: int = 1,
                progress: bool = False,
                skipped: Optional[List[Tuple[str, str]]] = None
                ) -> Iterator[AnomalyPrediction]:
        """Predictions one image at a time, computed ``batch_size`` at once.

        Args:
            inputs: An image file, folder (recursive) or glob; a BGR uint8
                array (as ``cv2.imread`` gives, MMSeg's convention); or a list
                of files and arrays.
            batch_size: Images per forward pass.
            progress: Show a tqdm progress bar.
            skipped: None: an image that cannot be read, or whose scores are
                NaN or infinite, ends the run with an error naming it. A
                list: such an image is skipped and ``(image, reason)``
                appended to it (``'array {index}'`` for an array); the others
                are predicted.

        Yields:
            AnomalyPrediction: In input order.

        Raises:
            UnreadableImageError: (without ``skipped``) An image file is
                missing, a broken link, empty, truncated or not an image.
            NonFiniteScoreError: (without ``skipped``) NaN or infinite
                scores.
        """
        for _, prediction in self._predict_items(
                self._inputs_to_list(inputs), batch_size, progress, skipped):
            yield prediction

    def predict_file(self, path: str) -> Tuple[np.ndarray, np.ndarray]:
        """``(scores, seg)`` of one image file (what the exporter takes)."""
        prediction = next(self.predict([path]))
        return prediction.scores, prediction.seg

    def visualize(self,
                  image: np.ndarray,
                  prediction: AnomalyPrediction,
                  value_range: Optional[Tuple[float, float]] = None,
                  percentiles: Tuple[float, float] = (1.0, 99.0),
                  cmap: str = 'inferno',
                  draw_seg: bool = False,
                  upscale: int = 1,
                  min_height: int = 0,
                  columns: int = 0,
                  titles: bool = True) -> np.ndarray:
        """The heat-map picture of one prediction.

        Panels: input | heat map | [segmentation, or the final prediction
        with a threshold] | colour bar.

        Args:
            image: ``(H, W, 3)`` uint8 RGB input.
            prediction: Its prediction.
            value_range: Colour range; None: the image's ``percentiles``.
            percentiles: Per-image percentiles of the colour range.
            cmap: Colormap name.
            draw_seg: Add the segmentation panel (always drawn, as the final
                prediction, with a threshold).
            upscale: Integer factor enlarging the panels.
            min_height: Enlarge small images to at least this panel height.
            columns: Panels per row (0: one row).
            titles: Write panel titles.

        Returns:
            np.ndarray: The RGB picture.
        """
        scores = prediction.scores
        lo, hi = value_range or score_range(scores, percentiles)
        seg_color, seg_title = None, 'prediction'
        if prediction.threshold is not None:
            seg_color = paint_final_prediction(image, prediction.seg, scores,
                                               prediction.threshold,
                                               self.palette)
            seg_title = final_prediction_title(prediction.threshold)
        elif draw_seg:
            seg_color = paint_segmentation(image, prediction.seg,
                                           self.palette)
        return anomaly_panels(
            image, scores, lo, hi, cmap, seg_color=seg_color, titles=titles,
            score_title=f'anomaly score: {self.anomaly_score["name"]}',
            seg_title=seg_title,
            upscale=max(upscale, upscale_factor(image.shape[0], min_height)),
            columns=columns)

    def __call__(self,
                 inputs: InputsType,
                 batch_size: int = 1,
                 return_vis: bool = False,
                 show: bool = False,
                 wait_time: float = 0,
                 out_dir: str = '',
                 save_scores: bool = False,
                 progress: bool = True,
                 on_error: str = 'raise',
                 **vis_kwargs: Any) -> Dict[str, list]:
        """Run the inferencer.

        Args:
            inputs: See :meth:`predict`.
            batch_size: Images per forward pass.
            return_vis: Also return the heat-map pictures.
            show: Show each picture in a window.
            wait_time: Seconds each shown picture stays (0: until a key).
            out_dir: Write ``{stem}.png`` heat maps here (``{index:08d}``
                for arrays); '' writes nothing.
            save_scores: Also write ``{stem}.npy`` score maps to ``out_dir``.
            progress: Show a tqdm progress bar.
            on_error: ``'raise'``: an image that cannot be read (missing,
                broken link, empty, truncated, not an image) or whose scores
                are NaN or infinite ends the call with an error naming it.
                ``'skip'``: such an image is skipped and listed in
                ``skipped``; every other image is predicted (and written).
            **vis_kwargs: Arguments of :meth:`visualize`.

        Returns:
            dict: ``predictions`` (list of :class:`AnomalyPrediction`, of the
            images that succeeded), ``visualization`` (list of RGB pictures
            when ``return_vis``, else empty), ``skipped`` (``(image,
            reason)`` with ``on_error='skip'``) and ``files`` (the files
            written to ``out_dir``).
        """
        if on_error not in ON_ERROR:
            raise ValueError(f'on_error must be one of {ON_ERROR}, got '
                             f'{on_error!r}.')
        items = self._inputs_to_list(inputs)
        stems = output_stems([i for i in items if isinstance(i, str)])
        draw = bool(out_dir) or show or return_vis
        results: Dict[str, list] = dict(predictions=[], visualization=[],
                                        skipped=[], files=[])
        skipped = results['skipped'] if on_error == 'skip' else None
        for item, prediction in self._predict_items(items, batch_size,
                                                    progress, skipped):
            results['predictions'].append(prediction)
            if not (draw or save_scores):
                continue
            if isinstance(item, str):
                image = read_rgb(item)
                stem = stems[item]
            else:
                image = np.ascontiguousarray(item[..., ::-1])
                stem = f'{self.num_visualized:08d}'
            self.num_visualized += 1
            base = osp.join(out_dir, stem) if out_dir else None
            if base:
                os.makedirs(osp.dirname(osp.abspath(base)), exist_ok=True)
            if save_scores and base:
                np.save(base + '.npy', prediction.scores)
                results['files'].append(base + '.npy')
            if not draw:
                continue
            picture = self.visualize(image, prediction, **vis_kwargs)
            if base:
                write_picture(base + '.png', picture)
                results['files'].append(base + '.png')
            if show:
                cv2.imshow(stem, picture[..., ::-1])
                cv2.waitKey(int(wait_time * 1000))
            if return_vis:
                results['visualization'].append(picture)
        return results


def write_picture(path: str, picture: np.ndarray) -> None:
    """Write an RGB picture as PNG, or raise ``OSError``."""
    if not cv2.imwrite(path, picture[..., ::-1]):
        raise OSError(f'Could not write {path} (disk full or no '
                      f'permission?).')
