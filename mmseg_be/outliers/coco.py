"""Build an outlier bank from COCO 2017 instance annotations.

Released rule (PEBAL / balanced energy, see docs/datasets.md): an image of
``{split}2017`` is used only if NONE of its annotations (crowd ones included)
belongs to an excluded category (by default the eight that overlap the
Cityscapes classes: person, bicycle, car, motorcycle, bus, truck, traffic
light, stop sign = ids 1, 2, 3, 4, 6, 8, 10, 13) and both sides are at least
480 px; its outlier mask is the union of all its instance masks (crowd
included). ``per_instance=True`` instead stores one entry per annotation of
the kept images.
"""
import json
import os.path as osp
from collections import Counter
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from typing import Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from mmseg_be.utils.image_io import UnreadableImageError, read_image
from .bank import OutlierBankWriter, encode_entry

#: COCO ids of person, bicycle, car, motorcycle, bus, truck, traffic light,
#: stop sign: the classes Cityscapes already knows.
CITYSCAPES_OVERLAP_CATEGORY_IDS = (1, 2, 3, 4, 6, 8, 10, 13)


@dataclass
class CocoOutlierSettings:
    """Filters of the bank builder (stored in the bank's ``bank_info.json``).

    Args:
        excluded_category_ids: an image with any of these is skipped.
        min_image_side: images whose shorter side is below this are skipped.
        per_instance: one entry per annotation instead of one union per image.
        min_area: entries whose mask has fewer pixels are skipped.
        split: COCO split ('train' reads ``instances_train2017.json``).
    """
    excluded_category_ids: Tuple[int, ...] = CITYSCAPES_OVERLAP_CATEGORY_IDS
    min_image_side: int = 480
    per_instance: bool = False
    min_area: int = 0
    split: str = 'train'


def load_coco_annotations(ann_file: str) -> dict:
    """Read a COCO instances JSON, failing clearly on bad input.

    Args:
        ann_file (str): Path of ``instances_{split}2017.json``.

    Returns:
        dict: The parsed JSON (``images``, ``annotations``, ``categories``).
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'COCO annotation file {ann_file} not found: expected '
            '{coco_root}/annotations/instances_{split}2017.json')
    try:
        with open(ann_file) as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f'COCO annotation file {ann_file} is not valid '
                         f'JSON ({e}); re-download or re-extract it') from e
    missing = [k for k in ('images', 'annotations')
               if not isinstance(data, dict) or
               not isinstance(data.get(k), list)]
    if missing:
        raise ValueError(f'COCO annotation file {ann_file} lacks the list(s) '
                         f'{missing}: is it an instances_*.json file?')
    for i, img in enumerate(data['images']):
        if not all(k in img for k in ('id', 'file_name', 'height', 'width')):
            raise ValueError(f'{ann_file}: images[{i}] lacks one of id, '
                             'file_name, height, width')
    for i, ann in enumerate(data['annotations']):
        if not all(k in ann for k in ('id', 'image_id', 'category_id',
                                      'segmentation')):
            raise ValueError(f'{ann_file}: annotations[{i}] lacks one of id, '
                             'image_id, category_id, segmentation')
    return data


def decode_segmentation(segm, height: int, width: int) -> np.ndarray:
    """Decode one COCO segmentation (polygons, RLE or compressed RLE).

    Args:
        segm: The annotation's ``segmentation`` field.
        height (int): Image height.
        width (int): Image width.

    Returns:
        np.ndarray: HxW bool mask.
    """
    if isinstance(segm, list):  # polygons, possibly several parts
        rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    elif isinstance(segm, dict) and isinstance(segm.get('counts'), list):
        rle = mask_utils.frPyObjects(segm, height, width)  # uncompressed
    elif isinstance(segm, dict) and 'counts' in segm:
        rle = dict(segm)
        if isinstance(rle['counts'], str):
            rle['counts'] = rle['counts'].encode('ascii')
    else:
        raise ValueError(f'unknown COCO segmentation format: {type(segm)}')
    return mask_utils.decode(rle).astype(bool)


def plan_images(data: dict, settings: CocoOutlierSettings
                ) -> Tuple[List[dict], Counter]:
    """Apply the image-level filters (released rule).

    Args:
        data (dict): Parsed COCO annotations.
        settings (CocoOutlierSettings): Filters.

    Returns:
        tuple: the kept images (dicts with ``id``, ``file_name``, ``height``,
        ``width``, ``anns``), sorted by id, and a Counter of skip reasons.
    """
    anns_by_image: Dict[int, List[dict]] = {}
    for ann in data['annotations']:
        anns_by_image.setdefault(ann['image_id'], []).append(ann)
    excluded = set(settings.excluded_category_ids)
    kept, skipped = [], Counter()
    for img in sorted(data['images'], key=lambda im: im['id']):
        anns = anns_by_image.get(img['id'], [])
        if any(a['category_id'] in excluded for a in anns):
            skipped['excluded_category'] += 1
        elif min(img['height'], img['width']) < settings.min_image_side:
            skipped['small_image'] += 1
        elif not anns:
            skipped['no_annotations'] += 1
        else:
            kept.append(dict(id=img['id'], file_name=img['file_name'],
                             height=img['height'], width=img['width'],
                             anns=anns))
    return kept, skipped


def entry_key(image_id: int, ann_id: Optional[int] = None) -> str:
    """Bank key of an image (union mode) or of one annotation."""
    key = f'coco_{image_id:012d}'
    return key if ann_id is None else f'{key}_{ann_id}'


def process_image(
    task: Tuple[dict, str, CocoOutlierSettings]
) -> Tuple[List[Tuple[str, bytes, dict]], Counter, List[Tuple[str, str]]]:
    """Decode one image and its masks into encoded bank entries.

    Runs in worker processes: everything heavy (JPEG decode, mask decode,
    PNG encode) happens here; only bytes go back to the writer. The image is
    decoded fully and strictly before any crop: a truncated JPEG (which
    ``cv2.imread`` returns with its missing part grey) is skipped.

    Args:
        task (tuple): ``(image plan, image directory, settings)``.

    Returns:
        tuple: list of ``(key, png bytes, meta)``, a Counter of skips, and
        ``(file name, reason)`` of an image that could not be read.
    """
    img, img_dir, settings = task
    skipped = Counter()
    path = osp.join(img_dir, img['file_name'])
    try:
        bgr = read_image(path, cv2.IMREAD_COLOR)
    except UnreadableImageError as error:
        skipped['missing_or_unreadable_image'] += 1
        return [], skipped, [(img['file_name'], error.reason)]
    h, w = img['height'], img['width']
    if bgr.shape[:2] != (h, w):
        skipped['size_mismatch'] += 1
        return [], skipped, []
    rgb = bgr[..., ::-1]
    if settings.per_instance:
        groups = [(entry_key(img['id'], a['id']), [a]) for a in img['anns']]
    else:
        groups = [(entry_key(img['id']), img['anns'])]
    entries = []
    for key, anns in groups:
        mask = np.zeros((h, w), bool)
        for a in anns:
            mask |= decode_segmentation(a['segmentation'], h, w)
        area = int(mask.sum())
        if area == 0 or area < settings.min_area:
            skipped['empty_or_small_mask'] += 1
            continue
        png, geometry = encode_entry(rgb, mask)
        meta = dict(geometry, source='coco', image_id=img['id'],
                    file_name=img['file_name'],
                    category_ids=sorted({a['category_id'] for a in anns}),
                    ann_ids=[a['id'] for a in anns])
        entries.append((key, png, meta))
    return entries, skipped, []


def _run_tasks(tasks: list, num_workers: int) -> Iterator[tuple]:
    if num_workers <= 1:
        yield from map(process_image, tasks)
        return
    with Pool(num_workers) as pool:
        # imap keeps the sorted order, so --max-entries is deterministic.
        yield from pool.imap(process_image, tasks, chunksize=4)


def build_coco_outlier_bank(coco_root: str,
                            out_dir: str,
                            settings: CocoOutlierSettings,
                            max_entries: Optional[int] = None,
                            num_workers: int = 0,
                            progress: bool = True) -> Dict[str, object]:
    """Build (or finish) an outlier bank from a COCO 2017 root.

    Args:
        coco_root (str): Folder with ``annotations/`` and ``{split}2017/``.
        out_dir (str): Bank directory.
        settings (CocoOutlierSettings): Filters.
        max_entries (int, optional): Stop once the bank holds this many.
        num_workers (int): Worker processes (0 or 1 = in process).
        progress (bool): Show a tqdm progress bar.

    Returns:
        dict: Summary: ``kept`` (new entries), ``already_done``, ``total``
        (bank size), ``images_considered``, ``skipped`` (reason -> count)
        and ``unreadable`` (``[file name, reason]`` of every image that is
        missing, truncated or corrupt; they are skipped, and tried again on
        a re-run).

    Raises:
        FileNotFoundError / ValueError: bad annotation file (named).
        RuntimeError: the bank would be empty after filtering.
    """
    ann_file = osp.join(coco_root, 'annotations',
                        f'instances_{settings.split}2017.json')
    img_dir = osp.join(coco_root, f'{settings.split}2017')
    data = load_coco_annotations(ann_file)
    plan, skipped = plan_images(data, settings)
    num_images = len(data['images'])
    del data
    if not plan and not osp.isfile(osp.join(out_dir, 'index.jsonl')):
        raise RuntimeError(
            f'no COCO image passed the filters ({dict(skipped)}) in '
            f'{ann_file}: the bank {out_dir} would be empty; loosen '
            '--min-image-side / --exclude-cat-ids')
    info = asdict(settings)
    info['excluded_category_ids'] = sorted(info['excluded_category_ids'])
    writer = OutlierBankWriter(out_dir, info=dict(info, source='coco'))

    def done(img: dict) -> bool:
        if settings.per_instance:
            return all(entry_key(img['id'], a['id']) in writer
                       for a in img['anns'])
        return entry_key(img['id']) in writer

    already_done = len(writer)
    todo = [img for img in plan if not done(img)]
    kept = 0
    unreadable: List[Tuple[str, str]] = []
    capped = max_entries is not None and len(writer) >= max_entries
    if todo and not capped:
        tasks = [(img, img_dir, settings) for img in todo]
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(tasks), desc='COCO outliers', unit='img')
        results = _run_tasks(tasks, num_workers)
        try:
            for entries, skips, problems in results:
                skipped.update(skips)
                unreadable.extend(problems)
                for key, png, meta in entries:
                    if max_entries is not None and \
                            len(writer) >= max_entries:
                        capped = True
                        break
                    kept += writer.add_encoded(key, png, meta)
                if bar is not None:
                    bar.update(1)
                if capped:
                    break
        finally:
            results.close()  # stops the worker pool when capped early
            if bar is not None:
                bar.close()
    if len(writer) == 0:
        raise RuntimeError(
            f'no COCO object passed the filters ({dict(skipped)}) in '
            f'{ann_file}: the bank {out_dir} would be empty; loosen '
            '--min-image-side / --min-area / --exclude-cat-ids')
    return dict(kept=kept, already_done=already_done, total=len(writer),
                images_considered=num_images,
                capped_by_max_entries=capped, skipped=dict(skipped),
                unreadable=[list(p) for p in unreadable])


def format_summary(summary: Dict[str, object]) -> str:
    """Human-readable summary of :func:`build_coco_outlier_bank`."""
    lines = [f"bank entries: {summary['total']} "
             f"(new {summary['kept']}, already there "
             f"{summary['already_done']})",
             f"images in annotation file: {summary['images_considered']}"]
    for reason, n in sorted(summary['skipped'].items()):
        lines.append(f'skipped ({reason}): {n}')
    if summary['capped_by_max_entries']:
        lines.append('stopped early: --max-entries reached')
    for file_name, reason in summary.get('unreadable', []):
        lines.append(f'unreadable image (skipped) {file_name}: {reason}')
    return '\n'.join(lines)
