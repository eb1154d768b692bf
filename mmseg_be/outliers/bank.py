"""On-disk bank of outlier objects (cropped pixels + mask) for pasting.

Layout of a bank directory ``root``::

    root/
      index.jsonl          one JSON object per line, one line per entry
      bank_info.json       optional: how the bank was built (builder settings)
      objects/{key}.png    RGBA PNG: RGB = the object's bounding-box crop,
                           alpha = 255 on the object's mask, 0 elsewhere

Each index line holds at least ``key`` (unique), ``file`` (relative to
``root``), ``height``/``width`` (crop size), ``bbox`` (``[x, y, w, h]`` of the
crop in the source image) and ``area`` (mask pixels); builders add their own
fields (COCO: ``image_id``, ``category_ids``, ``ann_ids``, ``source``).

Loading one object decodes one small PNG, so a transform can sample objects
at random without holding the bank in memory. Writes are crash safe: each PNG
is written through :func:`mmseg_be.utils.atomic_io.atomic_write_bytes`
(a temporary file, fsync, rename), and its index line is appended
only afterwards with a single ``write`` + ``fsync``; re-running a builder skips
the keys already indexed, and a torn last index line (a crash mid-append) is
dropped and redone.
"""
import json
import os
import os.path as osp
import warnings
from typing import Dict, Iterator, Optional, Set, Tuple

import cv2
import numpy as np

from mmseg_be.utils.atomic_io import atomic_write_bytes

INDEX_FILE = 'index.jsonl'
INFO_FILE = 'bank_info.json'
OBJECTS_DIR = 'objects'


def crop_to_mask(rgb: np.ndarray, mask: np.ndarray
                 ) -> Tuple[np.ndarray, np.ndarray, Tuple[int, int, int, int]]:
    """Crop an image and its mask to the tight bounding box of the mask.

    Args:
        rgb (np.ndarray): HxWx3 uint8 image.
        mask (np.ndarray): HxW mask (non-zero = object).

    Returns:
        tuple: ``(rgb_crop, mask_crop (bool), (x, y, w, h))``.

    Raises:
        ValueError: on shape/dtype mismatch or an empty mask.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError('rgb must be an HxWx3 uint8 array, got shape '
                         f'{rgb.shape} dtype {rgb.dtype}')
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f'mask shape {mask.shape} does not match image '
                         f'shape {rgb.shape[:2]}')
    mask = mask.astype(bool)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError('mask is empty: an outlier object needs at least '
                         'one pixel')
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    return (rgb[y0:y1, x0:x1], mask[y0:y1, x0:x1],
            (x0, y0, x1 - x0, y1 - y0))


def encode_entry(rgb: np.ndarray, mask: np.ndarray
                 ) -> Tuple[bytes, Dict[str, object]]:
    """Crop an object to its mask and encode it as an RGBA PNG.

    Kept separate from the writer so worker processes can do the expensive
    part (cropping, PNG compression) and only ship bytes to the writer.

    Args:
        rgb (np.ndarray): HxWx3 uint8 image in RGB order.
        mask (np.ndarray): HxW mask of the object (non-zero = object).

    Returns:
        tuple: the PNG bytes and the geometry fields of the index line
        (``height``, ``width``, ``bbox``, ``area``).
    """
    crop, mcrop, bbox = crop_to_mask(rgb, mask)
    bgra = np.empty(crop.shape[:2] + (4, ), np.uint8)
    bgra[..., :3] = crop[..., ::-1]  # cv2 writes BGR(A)
    bgra[..., 3] = np.where(mcrop, 255, 0)
    ok, buf = cv2.imencode('.png', bgra)
    if not ok:
        raise RuntimeError('cv2 failed to encode an outlier object as PNG')
    geometry = dict(height=int(crop.shape[0]), width=int(crop.shape[1]),
                    bbox=list(bbox), area=int(mcrop.sum()))
    return buf.tobytes(), geometry


class OutlierBankWriter:
    """Append objects to an outlier bank, skipping keys already present.

    Args:
        root (str): Bank directory (created if missing).
        info (dict, optional): Builder settings stored in ``bank_info.json``.
            If the bank already has different settings a ``ValueError`` is
            raised, so two incompatible builds never mix in one bank.
    """

    def __init__(self, root: str, info: Optional[dict] = None) -> None:
        self.root = root
        os.makedirs(osp.join(root, OBJECTS_DIR), exist_ok=True)
        self.index_path = osp.join(root, INDEX_FILE)
        self._check_info(info)
        self._keys: Set[str] = self._read_keys()

    def _check_info(self, info: Optional[dict]) -> None:
        if info is None:
            return
        path = osp.join(self.root, INFO_FILE)
        if osp.exists(path):
            with open(path) as f:
                old = json.load(f)
            if old != json.loads(json.dumps(info)):
                raise ValueError(
                    f'{path} was built with settings {old}, not {info}: '
                    'use another output directory or delete the old bank')
        else:
            atomic_write_bytes(path, json.dumps(info, indent=1).encode())

    def _read_keys(self) -> Set[str]:
        if not osp.exists(self.index_path):
            return set()
        with open(self.index_path, 'rb') as f:
            data = f.read()
        if data and not data.endswith(b'\n'):
            # Crash mid-append: drop the torn line; its entry gets redone.
            keep = data.rfind(b'\n') + 1
            with open(self.index_path, 'r+b') as f:
                f.truncate(keep)
            data = data[:keep]
        return {json.loads(line)['key'] for line in data.splitlines() if line}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    @property
    def keys(self) -> Set[str]:
        """Keys of the entries already in the bank."""
        return set(self._keys)

    def add_encoded(self, key: str, png: bytes, meta: dict) -> bool:
        """Store a PNG made by :func:`encode_entry` with its index fields.

        Args:
            key (str): Unique entry name (also the file stem).
            png (bytes): RGBA PNG bytes.
            meta (dict): JSON-serialisable index fields (geometry included).

        Returns:
            bool: False if ``key`` was already in the bank (nothing written).
        """
        if key in self._keys:
            return False
        if not key or '/' in key or key.startswith('.'):
            raise ValueError(f'invalid entry key {key!r}')
        rel = f'{OBJECTS_DIR}/{key}.png'
        atomic_write_bytes(osp.join(self.root, rel), png)
        line = json.dumps(dict(meta, key=key, file=rel)) + '\n'
        with open(self.index_path, 'ab') as f:
            f.write(line.encode())
            f.flush()
            os.fsync(f.fileno())
        self._keys.add(key)
        return True

    def add(self, rgb: np.ndarray, mask: np.ndarray, meta: dict,
            key: Optional[str] = None) -> bool:
        """Crop ``rgb`` to ``mask`` and store it.

        Args:
            rgb (np.ndarray): HxWx3 uint8 RGB image.
            mask (np.ndarray): HxW object mask.
            meta (dict): Extra JSON-serialisable index fields (a ``bbox``
                given here, e.g. in source-image coordinates, wins over the
                crop box computed from ``mask``).
            key (str, optional): Unique entry name; default ``obj_{n:08d}``.

        Returns:
            bool: False if ``key`` was already in the bank.
        """
        if key is None:
            key = f'obj_{len(self._keys):08d}'
        if key in self._keys:
            return False
        png, geometry = encode_entry(rgb, mask)
        return self.add_encoded(key, png, dict(geometry, **meta))


class OutlierBank:
    """Read-only access to an outlier bank.

    Only the raw index bytes and line offsets are kept in memory (tens of MB
    at most for all of COCO), so the bank is cheap to copy into dataloader
    workers; objects are decoded on demand.

    Args:
        root (str): Bank directory holding ``index.jsonl``.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.index_path = osp.join(root, INDEX_FILE)
        if not osp.isfile(self.index_path):
            raise FileNotFoundError(
                f'outlier bank index {self.index_path} not found: build the '
                'bank first (tools/prepare_coco_outliers.py) or fix bank_root')
        with open(self.index_path, 'rb') as f:
            blob = f.read()
        if blob and not blob.endswith(b'\n'):
            warnings.warn(f'{self.index_path} ends with a torn line (an '
                          'interrupted build); ignoring it. Re-run the '
                          'builder to finish the bank.')
            blob = blob[:blob.rfind(b'\n') + 1]
        starts = [0]
        for lineno, line in enumerate(blob.splitlines(keepends=True), 1):
            self._validate_line(line, lineno)
            starts.append(starts[-1] + len(line))
        if len(starts) == 1:
            raise ValueError(f'outlier bank {root} is empty ({INDEX_FILE} '
                             'has no entries): rebuild it with looser '
                             'filters or point bank_root at another bank')
        self._blob = blob
        self._offsets = np.asarray(starts, dtype=np.int64)

    def _validate_line(self, line: bytes, lineno: int) -> None:
        try:
            meta = json.loads(line)
            ok = isinstance(meta, dict) and isinstance(meta.get('file'), str)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f'{self.index_path}, line {lineno}: not a JSON '
                             'object with a "file" field; the index is '
                             'corrupt, rebuild the bank')

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def meta(self, i: int) -> dict:
        """Index fields of entry ``i``."""
        if not -len(self) <= i < len(self):
            raise IndexError(f'entry {i} out of range for a bank of '
                             f'{len(self)} entries')
        i %= len(self)
        return json.loads(self._blob[self._offsets[i]:self._offsets[i + 1]])

    def load(self, i: int, channel_order: str = 'rgb'
             ) -> Tuple[np.ndarray, np.ndarray, dict]:
        """Decode entry ``i``.

        Args:
            i (int): Entry index.
            channel_order (str): 'rgb' (default) or 'bgr' (mmcv's order,
                saves a copy when pasting into images loaded by mmcv).

        Returns:
            tuple: ``(image HxWx3 uint8, mask HxW bool, meta dict)``.

        Raises:
            FileNotFoundError: if the entry's PNG is missing.
            ValueError: if the PNG cannot be decoded or has no alpha channel.
        """
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got "
                             f'{channel_order!r}')
        meta = self.meta(i)
        path = osp.join(self.root, meta['file'])
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'outlier bank entry {i} ({meta.get("key")}): file {path} is '
                'missing; re-run the bank builder to restore it')
        bgra = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if bgra is None or bgra.ndim != 3 or bgra.shape[2] != 4:
            raise ValueError(
                f'outlier bank entry {i} ({meta.get("key")}): file {path} is '
                'corrupt or not an RGBA PNG; delete it and its index line '
                'and re-run the bank builder')
        mask = bgra[..., 3] > 0
        img = bgra[..., :3]
        if channel_order == 'rgb':
            img = img[..., ::-1]
        return np.ascontiguousarray(img), mask, meta

    def __iter__(self) -> Iterator[Tuple[np.ndarray, np.ndarray, dict]]:
        for i in range(len(self)):
            yield self.load(i)
