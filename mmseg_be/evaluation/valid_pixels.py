"""One image's evaluated pixels: its scores split into inlier (label 0) and
anomaly (label 1) pixels, after checking shapes, labels and scores.

Every accumulator starts with :func:`split_valid` (numpy) or
:func:`split_valid_tensors` (torch, on the tensors' device).
"""
from typing import Any, Optional, Tuple

import numpy as np


def split_valid(scores: np.ndarray, labels: np.ndarray,
                ignore_index: Optional[int] = None):
    """Check one image and return its inlier and anomaly scores (1-D).

    Args:
        scores: Anomaly scores, any shape, higher = more anomalous.
        labels: Same shape; 0 inlier, 1 anomaly. Other values are ignored
            when ``ignore_index`` is None; otherwise only ``ignore_index`` may
            appear besides 0 and 1.
        ignore_index: Label of pixels to leave out, or None.

    Returns:
        ``(neg_scores, pos_scores)``.

    Raises:
        ValueError: Shape mismatch, unexpected label values, non-finite
            scores on evaluated pixels.
    """
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.shape != labels.shape:
        raise ValueError(f'scores have shape {scores.shape} but labels have '
                         f'shape {labels.shape}; they must match pixel for '
                         'pixel (resize the scores to the label size)')
    if scores.dtype == bool:
        scores = scores.view(np.uint8)
    if not (np.issubdtype(scores.dtype, np.floating)
            or np.issubdtype(scores.dtype, np.integer)):
        raise ValueError(f'scores must be a real number array, got '
                         f'{scores.dtype}')
    neg_mask = labels == 0
    pos_mask = labels == 1
    if ignore_index is not None:
        bad = ~(neg_mask | pos_mask | (labels == ignore_index))
        if bad.any():
            raise ValueError(_bad_labels_message(np.unique(labels[bad]),
                                                 ignore_index))
    neg = scores[neg_mask]
    pos = scores[pos_mask]
    if np.issubdtype(scores.dtype, np.floating):
        for name, part in (('inlier', neg), ('anomaly', pos)):
            if part.size and not np.isfinite(part).all():
                n_bad = int(np.count_nonzero(~np.isfinite(part)))
                raise ValueError(f'{n_bad} {name} pixels have NaN or '
                                 'infinite scores')
    return neg, pos


def split_valid_tensors(scores: Any, labels: Any, ignore_index: Optional[int]
                   ) -> Tuple[Any, Any]:
    """:func:`split_valid` for torch tensors, on their device.

    Returns:
        ``(inlier_scores, anomaly_scores)``, 1-D tensors on the scores'
        device (bool scores as uint8, bfloat16 as float32).
    """
    import torch
    labels = torch.as_tensor(labels, device=scores.device)
    if tuple(scores.shape) != tuple(labels.shape):
        raise ValueError(f'scores have shape {tuple(scores.shape)} but '
                         f'labels have shape {tuple(labels.shape)}; they '
                         'must match pixel for pixel (resize the scores to '
                         'the label size)')
    if scores.dtype == torch.bool:
        scores = scores.to(torch.uint8)
    elif scores.dtype == torch.bfloat16:
        scores = scores.float()  # numpy has no bfloat16; exact
    elif scores.is_complex():
        raise ValueError(f'scores must be a real number array, got '
                         f'{scores.dtype}')
    neg_mask = labels == 0
    pos_mask = labels == 1
    if ignore_index is not None:
        bad = ~(neg_mask | pos_mask | (labels == ignore_index))
        if bool(bad.any()):
            found = torch.unique(labels[bad]).cpu().numpy()
            raise ValueError(_bad_labels_message(found, ignore_index))
    parts = []
    for name, mask in (('inlier', neg_mask), ('anomaly', pos_mask)):
        part = scores[mask]
        if scores.is_floating_point() and part.numel():
            n_bad = int((~torch.isfinite(part)).sum())
            if n_bad:
                raise ValueError(f'{n_bad} {name} pixels have NaN or '
                                 'infinite scores')
        parts.append(part)
    return parts[0], parts[1]


def _bad_labels_message(found: np.ndarray, ignore_index: int) -> str:
    return (f'labels contain values {found[:20].tolist()} besides 0 '
            f'(inlier), 1 (anomaly) and ignore_index={ignore_index}; '
            'convert the labels, or pass ignore_index=None to drop every '
            'label other than 0 and 1')


def is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith('torch') and hasattr(x, 'device')
