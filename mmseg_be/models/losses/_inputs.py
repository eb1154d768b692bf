"""What every loss function does before its maths: check the logits and
labels, pick the in-distribution channels, and fix the compute dtype
(float32 at least, autocast off)."""
import functools
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor


def compute_dtype(logits: Tensor) -> torch.dtype:
    """float32, or float64 for float64 logits (exact tests, gradcheck)."""
    return torch.promote_types(logits.dtype, torch.float32)


def without_autocast(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Run a loss with autocast off so its matmuls and reductions stay in
    (at least) float32 even inside an fp16/bf16 autocast region."""

    @functools.wraps(fn)
    def wrapper(logits: Tensor, *args, **kwargs) -> Tensor:
        with torch.autocast(device_type=logits.device.type, enabled=False):
            return fn(logits, *args, **kwargs)

    return wrapper


def check_inputs(logits: Tensor,
                 label: Tensor,
                 ood_index: int,
                 ignore_index: int,
                 num_classes: Optional[int] = None) -> Tuple[Tensor, int]:
    """Validate logits and labels; select the in-distribution logits.

    Args:
        logits: ``(N, K, H, W)`` logits. ``K`` is C, or C+1 for a head with an
            abstention channel (then ``num_classes`` must be given).
        label: ``(N, H, W)`` integer labels.
        ood_index: Label of outlier pixels.
        ignore_index: Label of void pixels.
        num_classes: Number C of in-distribution classes; None means all
            channels are classes.

    Returns:
        tuple[Tensor, int]: The first C channels of ``logits`` and C.

    Raises:
        ValueError: On a shape mismatch, a wrong channel count or labels
            outside ``{0..C-1, ood_index, ignore_index}``.
    """
    if logits.dim() != 4:
        raise ValueError(
            'Expected logits of shape (N, C, H, W), got '
            f'{tuple(logits.shape)}.')
    if label.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(
            f'Logits {tuple(logits.shape)} and labels {tuple(label.shape)} do '
            'not match: labels must be (N, H, W) with the logits\' N, H, W '
            '(resize the logits to the label size first).')
    channels = logits.shape[1]
    if num_classes is None:
        num_classes = channels
    elif channels not in (num_classes, num_classes + 1):
        raise ValueError(
            f'num_classes={num_classes} but the logits have {channels} '
            'channels; expected C channels, or C+1 with an abstention '
            'channel last.')
    in_range = (label >= 0) & (label < num_classes)
    valid = in_range | (label == ood_index) | (label == ignore_index)
    if not bool(valid.all()):
        bad = torch.unique(label[~valid]).tolist()
        shown = bad[:20]
        raise ValueError(
            f'Labels {shown}{" ..." if len(bad) > 20 else ""} are outside '
            f'the {num_classes} classes 0..{num_classes - 1}, '
            f'ood_index={ood_index} and ignore_index={ignore_index}. Check '
            'the dataset\'s label mapping (reduce_zero_label, trainIds) or '
            'the loss\'s ood_index/ignore_index.')
    return logits[:, :num_classes], num_classes
