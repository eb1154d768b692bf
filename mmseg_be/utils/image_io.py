"""Strict image reading: a truncated or corrupt file is an error naming it.

The one image reader of mmseg_be: the loading transform of the configs
(:class:`~mmseg_be.datasets.transforms.LoadImageStoredOrientation`), the
inference API, the heat maps, the submission export and the label loaders
all decode through :func:`decode_image`.

Orientation rule: pixels come back **in the orientation they are stored
in; an EXIF orientation tag is ignored** (OpenCV's
``IMREAD_IGNORE_ORIENTATION``, added here to every colour or grey flag).
Benchmark labels are PNGs read unchanged, that is in stored orientation,
so a photo whose EXIF tag says "rotate 90" still lines up pixel for pixel
with its label, and a score map has the stored image's size. (OpenCV's and
mmcv's default colour read would rotate the photo and not the label.)

``cv2.imread`` decodes a truncated JPEG without complaint (the missing part
comes back grey) and PIL's ``image file is truncated`` names no file. Here
every image is decoded fully from its bytes with ``cv2.imdecode`` (what
mmcv's loaders use), and a JPEG's entropy-coded data is also read to its end
by PIL (at 1/8 scale, cheap), so a file cut short is refused whichever
decoder is lenient.
"""
import io
import os
from typing import Optional

import cv2
import numpy as np


class UnreadableImageError(OSError):
    """An image file is missing, truncated or not an image.

    Args:
        path: The file.
        reason: What is wrong, e.g. ``'image file is truncated'``.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f'{path}: {reason}')
        self.path = path
        self.reason = reason


def _truncation(content: bytes) -> Optional[str]:
    """PIL's complaint about a JPEG's or PNG's data, or None (also for a
    format PIL does not read: cv2 alone decides then)."""
    from PIL import Image
    try:
        image = Image.open(io.BytesIO(content))
    except Exception:  # not a format PIL knows
        return None
    with image:
        if image.format not in ('JPEG', 'PNG'):
            return None
        if image.format == 'JPEG':
            # DCT scaling still reads every byte of the scan data.
            image.draft('RGB', (max(1, image.width // 8),
                                max(1, image.height // 8)))
        try:
            image.load()
        except Exception as error:  # OSError, SyntaxError, zlib.error...
            return str(error) or type(error).__name__
    return None


def stored_orientation(flag: int) -> int:
    """``flag`` with EXIF orientation ignored (``IMREAD_UNCHANGED`` already
    ignores it and cannot be combined with other flags)."""
    if flag == cv2.IMREAD_UNCHANGED:
        return flag
    return flag | cv2.IMREAD_IGNORE_ORIENTATION


def decode_image(content: bytes,
                 path: str,
                 flag: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Decode a whole image file's bytes, refusing truncated data; in
    stored orientation (EXIF orientation ignored, see the module's rule).

    Args:
        content: The file's bytes.
        path: The file, named in errors.
        flag: ``cv2.IMREAD_*`` flag (colour BGR by default).

    Returns:
        np.ndarray: The decoded image.

    Raises:
        UnreadableImageError: The bytes are not a complete image.
    """
    if not content:
        raise UnreadableImageError(path, 'empty file')
    image = cv2.imdecode(np.frombuffer(content, np.uint8),
                         stored_orientation(flag))
    problem = _truncation(content)
    if problem is not None:
        raise UnreadableImageError(path, f'truncated or corrupt ({problem})')
    if image is None:
        raise UnreadableImageError(path, 'cannot be decoded as an image')
    return image


def read_image(path: str, flag: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Read and fully decode an image file, in stored orientation.

    Args:
        path: Image file.
        flag: ``cv2.IMREAD_*`` flag (colour BGR by default).

    Returns:
        np.ndarray: The decoded image.

    Raises:
        UnreadableImageError: The file is missing, unreadable, truncated or
            not an image (the message names it and says which).
    """
    try:
        with open(path, 'rb') as f:
            content = f.read()
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnreadableImageError(
                path, 'broken symbolic link (its target '
                f'{os.readlink(path)!r} does not exist)') from None
        raise UnreadableImageError(path, 'file not found') from None
    except OSError as error:
        raise UnreadableImageError(path, f'cannot be read ({error})') \
            from error
    return decode_image(content, path, flag)

