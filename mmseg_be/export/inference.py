"""Model loading and per-file inference shared by the export and vis tools."""
import os.path as osp
from typing import List, Optional

from mmengine.config import Config

from mmseg_be.utils import config_path, image_io


def load_model(config: str,
               checkpoint: str,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """``mmseg.apis.init_model`` made ready for file-path inference.

    ``inference_model`` drops only ``LoadAnnotations`` from the test pipeline;
    the OOD benchmark loaders (``LoadOODAnnotations``, ...) would fail on an
    image without labels, so every ``*Annotation*`` loader is removed here.

    Args:
        config: Config file (a path or relative to the project's configs/).
        checkpoint: Checkpoint file.
        device: Torch device, e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options: Overrides merged into the config.

    Returns:
        The segmentor in eval mode, with ``model.cfg`` set.
    """
    from mmseg.apis import init_model
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'Checkpoint {checkpoint!r} does not exist.')
    cfg = Config.fromfile(config_path(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = init_model(cfg, checkpoint, device=device)
    model.cfg.test_pipeline = [
        t for t in model.cfg.test_pipeline
        if 'Annotation' not in str(t.get('type', ''))
    ]
    return model


def unreadable_reason(path: str) -> Optional[str]:
    """Why an image file cannot be used, or None if it decodes fully.

    A full decode, strict about truncation (a reduced-size decode passes a
    truncated JPEG that the pipeline's loader then refuses, and a re-run
    would stop at the same frame): see :mod:`mmseg_be.utils.image_io`.
    """
    return image_io.unreadable_reason(path)


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
