"""Order-preserving uint32 keys of 32-bit (or narrower) scores.

A float score maps to a uint32 key that sorts as the score does: the IEEE-754
bits with the sign bit set for non-negative values and all bits flipped for
negative ones (-0.0 and 0.0 share a key; a NaN never reaches here, the
accumulators reject it). Signed integers flip their sign bit, unsigned ones
are their own keys. The paged histogram of the inlier scores
(:mod:`._key_histogram`) and the merge of run-length tables
(:mod:`._run_length_tables`) both count and sort such keys.
"""
from typing import Optional

import numpy as np

_SIGN = np.uint32(0x80000000)


def order_keys(values: np.ndarray) -> Optional[np.ndarray]:
    """uint32 keys sorting as ``values`` do; None for 64-bit values.

    Args:
        values: Float (<= 32 bits), signed or unsigned integer (<= 32 bits)
            scores.

    Returns:
        np.ndarray or None: The keys (a new array), or None when the values
        are wider than 32 bits.
    """
    if values.dtype.itemsize > 4:
        return None
    kind = values.dtype.kind
    if kind == 'f':
        # + 0 turns -0.0 into 0.0 and makes the copy the key is built in
        bits = (values.astype(np.float32, copy=False)
                + np.float32(0)).view(np.uint32)
        flip = (bits >> np.uint32(31)) * np.uint32(0x7FFFFFFF)
        flip ^= _SIGN
        bits ^= flip
        return bits
    if kind == 'i':
        return values.astype(np.int32, copy=False).view(np.uint32) ^ _SIGN
    return values.astype(np.uint32)


def values_of_keys(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The scores of ``keys`` (inverse of :func:`order_keys`) in ``dtype``.

    Args:
        keys: uint32 keys.
        dtype: The scores' dtype.

    Returns:
        np.ndarray: The scores, in ``dtype``.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == 'f':
        top = (keys >> np.uint32(31)).astype(bool)
        bits = np.where(top, keys ^ _SIGN, ~keys)
        return bits.view(np.float32).astype(dtype, copy=False)
    if dtype.kind == 'i':
        return (keys ^ _SIGN).view(np.int32).astype(dtype, copy=False)
    return keys.astype(dtype)
