"""What one rank of :class:`~.pixel_ood_metric.PixelOODMetric` accumulates
between ``process()`` calls; mmengine's ``collect_results`` pickles it."""
from typing import List, Optional, Tuple

import numpy as np
import torch

from .binned_accumulator import SMIYCBinnedAccumulator
from .component_accumulator import ComponentMetricAccumulator
from .pixel_accumulator import PixelOODAccumulator

#: One image waiting to be folded: (name, scores, labels).
_Pending = Tuple[str, np.ndarray, np.ndarray]


def to_numpy(array) -> np.ndarray:
    """A tensor (any device) or array as a numpy array."""
    if isinstance(array, torch.Tensor):
        return array.detach().cpu().numpy()
    return np.asarray(array)


class RankState:
    """Everything one rank accumulates (pickled by collect_results).

    Args:
        binned: Keep SMIYC bins too.
        rank: This process's rank.
        world_size: Number of processes.
    """

    def __init__(self, binned: bool, rank: int = 0,
                 world_size: int = 1) -> None:
        self.pixels = PixelOODAccumulator()
        self.binned = SMIYCBinnedAccumulator() if binned else None
        self.components: Optional[ComponentMetricAccumulator] = None
        self.cached_maps: List[str] = []
        self.img_paths: List[str] = []
        self.rank = rank
        self.world_size = world_size
        self.num_seen = 0
        self.pending: Optional[_Pending] = None

    def last_position(self) -> int:
        """Dataset position of the pending image under DefaultSampler."""
        return self.rank + (self.num_seen - 1) * self.world_size
