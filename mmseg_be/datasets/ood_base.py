"""Common base of the anomaly-segmentation benchmark datasets.

Every benchmark release is read in its own folder layout, but all of them are
seen by the model and the evaluator the same way: an image and a label map
with 0 (inlier), 1 (anomaly) and 255 (ignore). Raw encodings that differ
(Road Anomaly's value 2, LostAndFound's label ids) are converted on the fly by
:class:`~mmseg_be.datasets.transforms.LoadOODAnnotations`, which reads the
per-dataset value map that this base class puts into every sample.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmengine
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from mmseg_be.constants import IGNORE_INDEX

from .releases import ReleaseCheckMixin

OOD_METAINFO = dict(
    classes=('inlier', 'anomaly'), palette=[[0, 160, 0], [255, 0, 0]])


def describe_tree(root: str, max_depth: int = 2, max_entries: int = 4) -> str:
    """A short listing of what is on disk under ``root``, for error messages.

    If ``root`` does not exist, the nearest existing parent is listed instead
    so that a user sees where the path went wrong.

    Args:
        root: Folder to list.
        max_depth: How many folder levels to descend.
        max_entries: Entries shown per folder; the rest are counted.

    Returns:
        str: A tree as text, one entry per line.
    """
    shown = osp.abspath(root)
    prefix_note = ''
    while not osp.isdir(shown):
        parent = osp.dirname(shown)
        if parent == shown:
            return f'{root}: nothing on disk'
        shown = parent
        prefix_note = f'({osp.abspath(root)} does not exist; nearest ' \
                      f'existing parent shown)\n'
    lines = [prefix_note + shown + '/']

    def _walk(path: str, depth: int, indent: str) -> None:
        try:
            names = sorted(os.listdir(path))
        except OSError as err:
            lines.append(f'{indent}<unreadable: {err}>')
            return
        dirs = [n for n in names if osp.isdir(osp.join(path, n))]
        files = [n for n in names if n not in dirs]
        for name in dirs[:max_entries]:
            lines.append(f'{indent}{name}/')
            if depth < max_depth:
                _walk(osp.join(path, name), depth + 1, indent + '    ')
        if len(dirs) > max_entries:
            lines.append(f'{indent}... {len(dirs) - max_entries} more folders')
        for name in files[:max_entries]:
            lines.append(f'{indent}{name}')
        if len(files) > max_entries:
            lines.append(f'{indent}... {len(files) - max_entries} more files')

    _walk(shown, 1, '    ')
    return '\n'.join(lines)


@DATASETS.register_module()
class OODBenchmarkDataset(ReleaseCheckMixin, BaseSegDataset):
    """An image folder paired with a label folder, labels 0 / 1 / 255.

    Subclasses fix the release layout through their default ``data_prefix``,
    ``img_suffix`` and ``seg_map_suffix``, describe it in ``EXPECTED_LAYOUT``
    (shown in every layout error) and, where the raw labels are not 0/1/255
    yet, give the conversion in ``VALUE_MAP``.

    A frame's id is its image path relative to the image folder, without
    the image suffix (for LostAndFound also without the sequence folder, so
    ids match the SegmentMeIfYouCan kit's frame ids). The label of image
    ``{img_path}/sub/<name>{img_suffix}`` is
    ``{seg_map_path}/sub/<name>{seg_map_suffix}``.

    Args:
        img_suffix: Image suffix, or several accepted ones (e.g. a release
            shipped as ``.png`` or re-encoded as ``.jpg``).
        seg_map_suffix: Label suffix, replacing the image suffix.
        with_labels: False lists images only (test images without public
            labels, for export); the pipeline must then not load labels.
        ann_file: Optional frame list, one frame id per line: only those
            frames are kept, and an id that is not on disk is an error.
        releases: Candidate official releases (:class:`~mmseg_be.datasets.
            releases.Release` or dicts of its fields) instead of the table
            of :data:`~mmseg_be.datasets.releases.RELEASES`.
        release_check: 'frames' (default): after building, compare the
            frame ids with the releases and warn once if none matches;
            'full': also read every label and image header; 'off'.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`
            (``data_root``, ``data_prefix``, ``pipeline``, ...).
    """

    METAINFO = OOD_METAINFO
    EXPECTED_LAYOUT = ('{data_root}/\n    {img_path}/<frame>{img_suffix}\n'
                       '    {seg_map_path}/<frame>{seg_map_suffix}')
    # Raw label value -> 0/1/255; values not listed are kept as they are.
    VALUE_MAP: Optional[Dict[int, int]] = None
    # Images are searched in sub-folders too (e.g. one folder per sequence).
    RECURSIVE = False
    # Pair from the label files (releases whose public labels cover only
    # part of the images, such as the SMIYC validation frames).
    PAIR_FROM_LABELS = False

    def __init__(self,
                 img_suffix: Union[str, Sequence[str]] = '.png',
                 seg_map_suffix: str = '.png',
                 with_labels: bool = True,
                 ann_file: str = '',
                 releases: Optional[Sequence] = None,
                 release_check: str = 'frames',
                 **kwargs) -> None:
        self._init_release_check(releases, release_check)
        self.with_labels = with_labels
        self.img_suffixes: Tuple[str, ...] = (
            (img_suffix, ) if isinstance(img_suffix, str) else
            tuple(img_suffix))
        kwargs.setdefault('ignore_index', IGNORE_INDEX)
        if kwargs.get('reduce_zero_label', False):
            raise ValueError(
                f'{type(self).__name__}: reduce_zero_label=True would turn '
                'the inlier label 0 into ignore; OOD benchmark labels are '
                'already 0/1/255.')
        super().__init__(
            img_suffix=self.img_suffixes[0],
            seg_map_suffix=seg_map_suffix,
            ann_file=ann_file,
            **kwargs)

    def expected_layout(self) -> str:
        """The release layout this dataset reads, with its current paths."""
        return self.EXPECTED_LAYOUT.format(
            data_root=self.data_root,
            img_path=self._rel(self.data_prefix.get('img_path', '')),
            seg_map_path=self._rel(self.data_prefix.get('seg_map_path', '')),
            img_suffix='|'.join(self.img_suffixes),
            seg_map_suffix=self.seg_map_suffix)

    def _rel(self, path: str) -> str:
        if self.data_root and path.startswith(str(self.data_root)):
            return osp.relpath(path, self.data_root)
        return path

    def _layout_error(self, message: str, listed: str) -> FileNotFoundError:
        return FileNotFoundError(
            f'{type(self).__name__}: {message}\nExpected layout:\n'
            f'{self.expected_layout()}\nFound on disk:\n'
            f'{describe_tree(listed)}\nFix data_root / data_prefix in the '
            'config (or --cfg-options test_dataloader.dataset.data_root=...).')

    def _require_dir(self, path: str, what: str) -> None:
        if not osp.isdir(path):
            listed = self.data_root if self.data_root else path
            raise self._layout_error(f'{what} folder {path} not found.',
                                     listed)

    def _list_files(self, folder: str,
                    suffixes: Tuple[str, ...]) -> Dict[str, str]:
        """Frame id -> path of the files under ``folder`` with a suffix."""
        found = {}
        for rel in mmengine.list_dir_or_file(
                folder, list_dir=False, suffix=suffixes,
                recursive=self.RECURSIVE):
            suffix = next(s for s in suffixes if rel.endswith(s))
            found[self.frame_id(rel[:-len(suffix)])] = osp.join(folder, rel)
        return found

    def frame_id(self, rel_stem: str) -> str:
        """Frame id of a file given its relative path without suffix."""
        return rel_stem

    def prepare_data(self, idx: int):
        """mmengine's ``prepare_data``; a failed read names the sample's files.

        MMCV's loaders can fail without a path (PIL's ``image file is
        truncated``), so an error that names none of the sample's files gets
        a note listing them.
        """
        try:
            return super().prepare_data(idx)
        except (OSError, ValueError, AssertionError) as error:
            info = self.get_data_info(idx)
            files = [str(info[k]) for k in ('img_path', 'seg_map_path')
                     if info.get(k)]
            if hasattr(error, 'add_note') and not any(
                    f in str(error) for f in files):
                error.add_note(f'while loading sample {idx} of '
                               f'{type(self).__name__}: {", ".join(files)}')
            raise

    def load_data_list(self) -> List[dict]:
        """Pair images with labels by frame id, with layout checks.

        Returns:
            list[dict]: One dict per frame with ``img_path``,
            ``seg_map_path`` (None without labels), ``frame_id`` and
            ``ood_value_map`` (read by ``LoadOODAnnotations``).
        """
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', '')
        self._require_dir(img_dir, 'Image')
        images = self._list_files(img_dir, self.img_suffixes)
        labels: Dict[str, str] = {}
        if self.with_labels:
            self._require_dir(ann_dir, 'Label')
            if self.PAIR_FROM_LABELS:
                labels = self._list_files(ann_dir, (self.seg_map_suffix, ))
                images = self._pair_images_to_labels(images, labels, img_dir)
            else:
                # A label may sit in a per-frame folder (Road Anomaly), so
                # the expected path is checked rather than the folder listed.
                expected = {
                    fid: self._label_path(path, img_dir, ann_dir)
                    for fid, path in images.items()
                }
                labels = {
                    fid: path
                    for fid, path in expected.items() if osp.isfile(path)
                }
                self._check_every_image_has_label(images, labels, expected,
                                                  ann_dir)
        images = self._apply_frame_list(images)
        if not images:
            raise self._layout_error(
                f'no images ({"|".join(self.img_suffixes)}) found in '
                f'{img_dir}.', self.data_root or img_dir)
        return [
            dict(
                img_path=images[fid],
                seg_map_path=labels.get(fid),
                frame_id=fid,
                ood_value_map=self.VALUE_MAP,
                label_map=self.label_map,
                reduce_zero_label=False,
                seg_fields=[]) for fid in sorted(images)
        ]

    def _check_every_image_has_label(self, images: Dict[str, str],
                                     labels: Dict[str, str],
                                     expected: Dict[str, str],
                                     ann_dir: str) -> None:
        missing = sorted(set(images) - set(labels))
        if missing:
            examples = '\n'.join(f'  {images[f]} -> expected {expected[f]}'
                                  for f in missing[:5])
            raise self._layout_error(
                f'{len(missing)} of {len(images)} images have no label, '
                f'e.g.\n{examples}', ann_dir)

    def _label_path(self, img_path: str, img_dir: str, ann_dir: str) -> str:
        """The label path of an image: same relative path, label suffix."""
        rel = osp.relpath(img_path, img_dir)
        suffix = next(s for s in self.img_suffixes if rel.endswith(s))
        return osp.join(ann_dir, rel[:-len(suffix)] + self.seg_map_suffix)

    def _pair_images_to_labels(self, images: Dict[str, str],
                               labels: Dict[str, str],
                               img_dir: str) -> Dict[str, str]:
        orphans = sorted(set(labels) - set(images))
        if orphans:
            examples = '\n'.join(
                f'  {labels[f]} -> expected '
                f'{osp.join(img_dir, f + self.img_suffixes[0])}'
                for f in orphans[:5])
            raise self._layout_error(
                f'{len(orphans)} of {len(labels)} labels have no image, '
                f'e.g.\n{examples}', img_dir)
        return {fid: images[fid] for fid in labels}

    def _apply_frame_list(self, images: Dict[str, str]) -> Dict[str, str]:
        if not self.ann_file:
            return images
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'{type(self).__name__}: frame list (ann_file) '
                f'{self.ann_file} not found.')
        wanted = [
            line.strip() for line in mmengine.list_from_file(self.ann_file)
            if line.strip()
        ]
        unknown = [fid for fid in wanted if fid not in images]
        if unknown:
            raise ValueError(
                f'{type(self).__name__}: {len(unknown)} frame ids of '
                f'{self.ann_file} are not in the listed frames, e.g. '
                f'{unknown[:5]}; listed ids look like '
                f'{sorted(images)[:3]}.')
        return {fid: images[fid] for fid in wanted}
