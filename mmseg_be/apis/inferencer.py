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

Images go through the config's ``test_pipeline`` exactly as in
``mmseg.apis.inference_model`` (annotation loaders removed, the image loader
swapped for ``LoadImageFromNDArray`` for arrays), so the scores equal
:func:`~mmseg_be.scoring.scores_from_logits` of that function's logits.
"""
import copy
import glob
import os
import os.path as osp
from dataclasses import dataclass
from typing import (Any, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import cv2
import numpy as np
import torch
from mmengine.config import Config

from mmseg_be.engine.anomaly_score_hook import adopt_anomaly_score
from mmseg_be.engine.checkpoint_fit import check_checkpoint_fits
from mmseg_be.scoring import scores_from_logits
from mmseg_be.utils import config_path
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


def collect_images(spec: str) -> List[str]:
    """Image files named by a file, a folder (recursive) or a glob.

    Args:
        spec: A path to an image, a folder, or a glob pattern.

    Returns:
        list[str]: Sorted file paths.

    Raises:
        FileNotFoundError: Nothing matches.
    """
    if osp.isfile(spec):
        return [spec]
    if osp.isdir(spec):
        paths = [p for p in glob.glob(osp.join(spec, '**', '*'),
                                      recursive=True)
                 if p.lower().endswith(IMAGE_SUFFIXES) and osp.isfile(p)]
    else:
        paths = [p for p in glob.glob(spec, recursive=True) if osp.isfile(p)]
    if not paths:
        raise FileNotFoundError(
            f'No images found for {spec!r}: pass an image file, a folder '
            f'holding {"/".join(IMAGE_SUFFIXES)} files, or a glob such as '
            f'"data/*.png" (quoted).')
    return sorted(paths)


def read_rgb(path: str) -> Optional[np.ndarray]:
    """An image as uint8 RGB, or None if it cannot be decoded."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if img is None else img[..., ::-1].copy()


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
        KeyError, ValueError: A bad score setting or threshold.
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
        if '://' not in weights and not osp.isfile(weights):
            raise FileNotFoundError(f'Checkpoint {weights!r} does not exist.')
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
        self.model = init_model(cfg, weights, device=device)
        check_checkpoint_fits(self.model, weights, partial_load,
                              model if isinstance(model, str) else '')
        # The config's test_pipeline, else its test dataset's (as
        # MMSegInferencer reads it). inference_model drops only
        # LoadAnnotations; the OOD benchmark loaders (LoadOODAnnotations,
        # ...) would fail on an unlabelled image, so every one goes.
        pipeline = (self.model.cfg.get('test_pipeline')
                    or self.model.cfg.test_dataloader.dataset.pipeline)
        self.model.cfg.test_pipeline = [
            t for t in pipeline if 'Annotation' not in str(t.get('type', ''))
        ]
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
            if array:
                steps[0]['type'] = 'LoadImageFromNDArray'
            self._pipelines[array] = Compose(steps)
        return self._pipelines[array]

    def forward(self, inputs: Sequence[InputType]) -> list:
        """One forward pass over a batch: MMSeg's ``SegDataSample`` outputs.

        Images of one batch must have the same size after the pipeline (as
        in MMSeg); their ``seg_logits`` are at each image's own size.
        """
        data: Dict[str, list] = dict(inputs=[], data_samples=[])
        for item in inputs:
            if isinstance(item, np.ndarray):
                packed = self._pipeline(True)(dict(img=item))
            else:
                packed = self._pipeline(False)(dict(img_path=item))
            data['inputs'].append(packed['inputs'])
            data['data_samples'].append(packed['data_samples'])
        with torch.no_grad():
            return self.model.test_step(data)

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

    def predict(self, inputs: InputsType, batch_size: int = 1,
                progress: bool = False) -> Iterator[AnomalyPrediction]:
        """Predictions one image at a time, computed ``batch_size`` at once.

        Args:
            inputs: An image file, folder (recursive) or glob; a BGR uint8
                array (as ``cv2.imread`` gives, MMSeg's convention); or a list
                of files and arrays.
            batch_size: Images per forward pass.
            progress: Show a tqdm progress bar.

        Yields:
            AnomalyPrediction: In input order.
        """
        from tqdm import tqdm
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
        items = self._inputs_to_list(inputs)
        with tqdm(total=len(items), desc='inference', unit='img',
                  disable=not progress) as bar:
            for start in range(0, len(items), batch_size):
                batch = items[start:start + batch_size]
                predictions = [
                    self.postprocess(
                        sample, item if isinstance(item, str) else None,
                        f'array {start + offset}')
                    for offset, (item, sample) in enumerate(
                        zip(batch, self.forward(batch)))
                ]
                bar.update(len(batch))
                yield from predictions

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
            **vis_kwargs: Arguments of :meth:`visualize`.

        Returns:
            dict: ``predictions`` (list of :class:`AnomalyPrediction`) and
            ``visualization`` (list of RGB pictures when ``return_vis``,
            else empty).
        """
        items = self._inputs_to_list(inputs)
        files = [i for i in items if isinstance(i, str)]
        draw = bool(out_dir) or show or return_vis
        results: Dict[str, list] = dict(predictions=[], visualization=[])
        for index, (item, prediction) in enumerate(
                zip(items, self.predict(items, batch_size, progress))):
            results['predictions'].append(prediction)
            if not (draw or save_scores):
                continue
            if isinstance(item, str):
                image = read_rgb(item)
                stem = out_stem(item, files)
            else:
                image = np.ascontiguousarray(item[..., ::-1])
                stem = f'{self.num_visualized:08d}'
            self.num_visualized += 1
            base = osp.join(out_dir, stem) if out_dir else None
            if base:
                os.makedirs(osp.dirname(osp.abspath(base)), exist_ok=True)
            if save_scores and base:
                np.save(base + '.npy', prediction.scores)
            if not draw:
                continue
            picture = self.visualize(image, prediction, **vis_kwargs)
            if base:
                write_picture(base + '.png', picture)
            if show:
                cv2.imshow(stem, picture[..., ::-1])
                cv2.waitKey(int(wait_time * 1000))
            if return_vis:
                results['visualization'].append(picture)
        return results


def out_stem(path: str, inputs: Sequence[str]) -> str:
    """The output name of ``path`` without suffix: relative to the inputs'
    common folder, so equal names in different sub-folders do not clash."""
    root = osp.commonpath([osp.abspath(p) for p in inputs]) if len(
        inputs) > 1 else osp.dirname(osp.abspath(path))
    rel = osp.relpath(osp.abspath(path), root)
    return osp.splitext(rel)[0]


def write_picture(path: str, picture: np.ndarray) -> None:
    """Write an RGB picture as PNG, or raise ``OSError``."""
    if not cv2.imwrite(path, picture[..., ::-1]):
        raise OSError(f'Could not write {path} (disk full or no '
                      f'permission?).')
