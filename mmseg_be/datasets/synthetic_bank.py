"""A synthetic outlier bank in the on-disk format of the COCO bank.

The demo's stand-in for COCO objects: novel objects drawn by
:func:`mmseg_be.datasets.synthetic.render_novel_object` (appearance families
that each resemble a scene class, mixed with imbalanced frequencies; shape
families disjoint from the demo's test anomalies), stored through
:class:`~mmseg_be.datasets.transforms.outlier_bank.OutlierBankWriter` so that
``PasteOutliers`` reads them exactly like a bank built from COCO.
"""
import numpy as np

from mmseg_be.datasets.synthetic import (BANK_SHAPES, FAMILY_WEIGHTS,
                                         render_novel_object)
from mmseg_be.datasets.transforms.outlier_bank import OutlierBankWriter


def write_synthetic_bank(root: str, num: int, max_side: int = 64,
                         seed: int = 0) -> int:
    """Write ``num`` novel objects into an outlier bank at ``root``.

    Re-running with the same arguments skips the entries already written.

    Args:
        root: Bank directory.
        num: Number of objects.
        max_side: Largest object side in pixels.
        seed: Seed; entry ``i`` is the same object for the same seed.

    Returns:
        int: Number of entries in the bank afterwards.
    """
    info = dict(source='synthetic', num=num, max_side=max_side, seed=seed,
                shapes=list(BANK_SHAPES),
                families=[list(f) for f in FAMILY_WEIGHTS])
    writer = OutlierBankWriter(root, info=info)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(num)):
        key = f'synthetic_{i:06d}'
        if key in writer:
            continue
        rgb, mask = render_novel_object(np.random.default_rng(child),
                                        max_side, BANK_SHAPES)
        writer.add(rgb, mask, dict(image_id=i, category_ids=[]), key=key)
    return len(writer)
