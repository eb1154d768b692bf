"""Weights and input for the logit-equality test of the released network.

Every tensor of a released ``DeepWV3Plus`` checkpoint gets values that are a
deterministic function of its name and shape (a generator seeded with the
CRC-32 of the name), so the fixture of the released network's outputs needs
to hold only the names, the shapes and the outputs. The same functions built
the weights that the released code was run with (see
``fixtures/deepwv3plus_released.json``).
"""
import functools
import json
import math
import os.path as osp
import zlib
from typing import Dict, List, Tuple

import numpy as np
import torch

FIXTURE = osp.join(osp.dirname(__file__), 'fixtures',
                   'deepwv3plus_released.json')
OUTPUTS = osp.join(osp.dirname(__file__), 'fixtures',
                   'deepwv3plus_released_logits.npz')
# The input: odd sizes (rounding of pools and strides, the align_corners
# resizes) and a stride-8 map of 26x40, wide enough for the ASPP's dilated
# taps (12, 24, and 36 along the width) to reach real features.
INPUT_SHAPE = (1, 3, 203, 315)
# The outputs are compared on every 8th row and column (offset 3).
SAMPLE = (slice(None), slice(None), slice(3, None, 8), slice(3, None, 8))


def released_value(name: str, shape: Tuple[int, ...]) -> torch.Tensor:
    """The float64 value of the released tensor ``name`` (no prefix)."""
    gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    leaf = name.rsplit('.', 1)[-1]
    if leaf == 'num_batches_tracked':
        return torch.tensor(1000, dtype=torch.long)
    if leaf == 'running_var':
        return 0.5 + torch.rand(shape, generator=gen, dtype=torch.float64)
    if leaf in ('running_mean', 'bias'):
        return 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
    if len(shape) == 1:  # a batch-norm weight (or the criterion's weights)
        return 0.5 + 0.5 * torch.rand(shape, generator=gen,
                                      dtype=torch.float64)
    fan_in = math.prod(shape[1:])
    return torch.randn(shape, generator=gen, dtype=torch.float64) * \
        math.sqrt(2.0 / fan_in)


def fixture_input() -> torch.Tensor:
    """The normalised float64 image both networks get."""
    gen = torch.Generator().manual_seed(20230618)
    return torch.randn(INPUT_SHAPE, generator=gen, dtype=torch.float64)


def released_names_and_shapes() -> List[Tuple[str, Tuple[int, ...]]]:
    """Names and shapes of the released ``DeepWV3Plus(19)`` state dict."""
    with open(FIXTURE) as f:
        return [(n, tuple(s)) for n, s in json.load(f)['state_dict']]


@functools.lru_cache(maxsize=1)
def released_state_dict(num_outputs: int = 19) -> Dict[str, torch.Tensor]:
    """A released ``DeepWV3Plus`` state dict (no prefix) with the fixture's
    names and shapes; ``num_outputs`` 20 for the abstention head. Cached
    (the last one only: each is 1.1 GB):
    copy the dict (``dict(...)``) and replace tensors, never change them in
    place."""
    state = {}
    for name, shape in released_names_and_shapes():
        if name == 'final.6.weight':
            shape = (num_outputs, ) + shape[1:]
        state[name] = released_value(name, shape)
    return state


def released_logits(num_outputs: int) -> np.ndarray:
    """The released network's sampled float64 logits on
    :func:`fixture_input`."""
    with np.load(OUTPUTS) as data:
        return data[f'logits_{num_outputs}']
