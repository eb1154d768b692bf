"""Energies of all pixels and the outlier pixels' class probabilities in one
autograd node, the hot path of the balanced energy loss.

An implementation detail of :func:`._functional.balanced_energy_loss`, not a
formula of its own: it computes ``free_energy`` and the outlier pixels'
softmax, the same values autograd's version would give (the tests compare
both against a loop oracle); only the backward is hand-written, for speed
and memory.

Autograd's version (``logsumexp``, then a boolean gather of the outlier
logits) builds two full-size gradient tensors and adds them, and runs each of
logsumexp's passes over the whole tensor; here the gradient is built in one
buffer, in cache-sized bands of rows on CPU (benchmarks/bench_loss.py).
"""
from typing import Iterator, Tuple

import torch
from torch import Tensor

from ._inputs import compute_dtype


# Elements per CPU chunk (2 MiB of float32): small enough for the cache, so
# the several passes of logsumexp and of its gradient read memory once.
_CPU_CHUNK_ELEMENTS = 1 << 19


def _row_chunks(logits: Tensor) -> Iterator[Tuple[int, slice]]:
    """(image, row slice) pieces of ``(N, C, H, W)`` logits: whole tensor on
    accelerators, cache-sized bands of rows on CPU."""
    n, c, h, w = logits.shape
    if logits.device.type != 'cpu':
        rows = h
    else:
        rows = max(1, _CPU_CHUNK_ELEMENTS // max(1, c * w))
    for b in range(n):
        for top in range(0, h, rows):
            yield b, slice(top, min(h, top + rows))


class _EnergyAndOutlierSoftmax(torch.autograd.Function):
    """Energies of all pixels and class probabilities of the outlier pixels.

    One autograd node with a hand-written backward, because autograd's
    version (logsumexp, then a boolean gather of the outlier logits) builds two
    full-size gradient tensors and adds them; here the gradient is built in
    one buffer: ``dE/df_c = -softmax(f / T)_c`` everywhere, plus the softmax
    Jacobian at the K outlier pixels, added in place.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, outlier: Tensor,
                temperature: float) -> Tuple[Tensor, Tensor]:
        n, _, h, w = logits.shape
        lse = logits.new_empty(n, h, w)
        for b, rows in _row_chunks(logits):
            piece = logits[b, :, rows]
            if temperature != 1.0:
                piece = piece / temperature
            torch.logsumexp(piece, dim=0, out=lse[b, rows])
        probs = logits.permute(0, 2, 3, 1)[outlier].softmax(dim=1)
        ctx.save_for_backward(logits, lse, outlier, probs)
        ctx.temperature = temperature
        return -temperature * lse, probs

    @staticmethod
    def backward(ctx, grad_energy: Tensor, grad_probs: Tensor):
        logits, lse, outlier, probs = ctx.saved_tensors
        temperature = ctx.temperature
        grad = torch.empty_like(logits)
        for b, rows in _row_chunks(logits):
            piece = logits[b, :, rows]
            if temperature != 1.0:
                piece = piece / temperature
            out = grad[b, :, rows]
            torch.sub(piece, lse[b, rows], out=out)
            out.exp_().mul_(grad_energy[b, rows].neg())
        if probs.numel():
            dot = (grad_probs * probs).sum(dim=1, keepdim=True)
            grad.permute(0, 2, 3, 1).index_put_(
                outlier.nonzero(as_tuple=True), probs * (grad_probs - dot),
                accumulate=True)
        return grad, None, None


def energy_and_outlier_probs(logits: Tensor, outlier: Tensor,
                             temperature: float = 1.0
                             ) -> Tuple[Tensor, Tensor]:
    """Energies of all pixels and softmax of the outlier pixels' logits.

    Args:
        logits: ``(N, C, H, W)`` logits.
        outlier: ``(N, H, W)`` boolean mask of the K outlier pixels.
        temperature: Energy temperature T (the softmax uses T = 1).

    Returns:
        tuple[Tensor, Tensor]: ``(N, H, W)`` energies and ``(K, C)``
        probabilities, in float32 (float64 for float64 logits).
    """
    return _EnergyAndOutlierSoftmax.apply(
        logits.to(compute_dtype(logits)), outlier, float(temperature))
