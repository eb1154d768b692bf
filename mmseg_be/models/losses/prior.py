"""The class prior of the auxiliary outliers: validation, JSON reader, the
named priors (the released Cityscapes values), and the prior's formulas: the
outlier pixels' class counts it is estimated from (by the estimation tool
and by the loss's online estimate), its sharpening and the ``'scaled'``
alpha rule (by the loss and the diagnostics).

The prior file is written by the prior-estimation tool
(``tools/estimate_prior.py``) and has the keys::

    {"prior": [C floats summing to 1], "counts": [C numbers],
     "class_names": [C str] or null, "num_samples": int, "num_pixels": int,
     "mode": "argmax" | "soft", "config": str, "checkpoint": str}

A loss's ``prior`` may also name a prior shipped with the package (see
:data:`NAMED_PRIORS`), e.g. ``prior='cityscapes-coco-released'``; a string
that is not one of these names is a file path.

Only ``prior`` is needed by the losses; ``counts`` and ``class_names`` are
checked for consistency when present.

Normalisation: every prior is divided by its sum. A prior *file* whose
entries do not sum to 1 (beyond rounding: ``|sum - 1| > 1e-3``) was not
written by the estimation tool as is (edited by hand, counts instead of
frequencies, a class dropped), so loading it warns with a
:class:`PriorSumWarning` naming the file and the sum, then normalises. It is
a warning, not an error, because a file of raw counts is a legitimate way to
give a prior; the warning is there so that a wrong file is not used
silently. A prior given as a list in a config is normalised without a word
(the released Cityscapes list sums to 1.0001).
"""
import json
import math
import os.path as osp
import warnings
from dataclasses import dataclass
from typing import List, Optional, Sequence, Union

import torch
from torch import Tensor

PriorLike = Union[None, str, Sequence[float]]

#: A prior file may sum to 1 +- this (rounding) before it is warned about.
PRIOR_SUM_TOLERANCE = 1e-3


class PriorSumWarning(UserWarning):
    """A prior file's entries do not sum to 1; it was normalised."""

_RELEASED_CITYSCAPES_PRIOR = (
    0.1525, 0.0133, 0.1067, 0.0401, 0.0339, 0.0053, 0.0011, 0.0280, 0.0802,
    0.0980, 0.0022, 0.1531, 0.0292, 0.0871, 0.1199, 0.0160, 0.0071, 0.0170,
    0.0094)


#: Priors a loss's ``prior`` argument may name instead of a file path.
#: ``'cityscapes-coco-released'``: COCO outlier pixels as the released
#: Cityscapes model sees them (19 classes, trainId order), the list
#: hard-coded in the released code.
NAMED_PRIORS = {'cityscapes-coco-released': _RELEASED_CITYSCAPES_PRIOR}


@dataclass(frozen=True)
class ClassPrior:
    """A validated, normalised class prior.

    Attributes:
        values: The C prior entries, non-negative, summing to 1.
        class_names: The C class names, or None when unknown.
        source: Where the prior came from (a file path or ``'list'``).
    """

    values: List[float]
    class_names: Optional[List[str]]
    source: str


def validate_prior_values(values: Sequence[float],
                          source: str = 'list') -> List[float]:
    """Check a prior and normalise it to sum to 1.

    Args:
        values: The raw prior entries.
        source: Named in error messages (a file path or ``'list'``).

    Returns:
        list[float]: The entries divided by their sum.

    Raises:
        ValueError: If the prior is empty, has a non-finite or negative entry,
            or sums to zero.
    """
    try:
        vals = [float(v) for v in values]
    except (TypeError, ValueError) as err:
        raise ValueError(
            f'The class prior from {source} must be a sequence of numbers, '
            f'got {values!r}.') from err
    if not vals:
        raise ValueError(f'The class prior from {source} is empty.')
    bad = [(i, v) for i, v in enumerate(vals)
           if not math.isfinite(v) or v < 0]
    if bad:
        raise ValueError(
            f'The class prior from {source} must have finite, non-negative '
            f'entries; bad (index, value) pairs: {bad}.')
    total = sum(vals)
    if total <= 0:
        raise ValueError(
            f'The class prior from {source} sums to zero; at least one class '
            'needs a positive frequency.')
    return [v / total for v in vals]


def load_prior_file(path: str) -> ClassPrior:
    """Read a prior JSON file written by the prior-estimation tool.

    Args:
        path: Path of the JSON file.

    Returns:
        ClassPrior: The normalised prior and its class names (if recorded).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the file is not valid JSON or its keys are
            inconsistent.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(missing_prior_message(path))
    with open(path, encoding='utf-8') as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'Prior file {path} is not valid JSON: {err}.'
                             ) from err
    if not isinstance(data, dict) or 'prior' not in data:
        raise ValueError(
            f'Prior file {path} must be a JSON object with a "prior" key '
            '(a list of C class frequencies).')
    values = validate_prior_values(data['prior'], source=path)
    total = math.fsum(float(v) for v in data['prior'])
    if abs(total - 1.0) > PRIOR_SUM_TOLERANCE:
        warnings.warn(
            f'Prior file {path}: the "prior" entries sum to {total:.6g}, '
            f'not 1; they are divided by their sum. If the file holds '
            'counts this is intended; otherwise re-estimate it with '
            '`python tools/estimate_prior.py`.', PriorSumWarning,
            stacklevel=2)
    for key in ('counts', 'class_names'):
        entry = data.get(key)
        if entry is not None and len(entry) != len(values):
            raise ValueError(
                f'Prior file {path}: "{key}" has {len(entry)} entries but '
                f'"prior" has {len(values)}.')
    names = data.get('class_names')
    return ClassPrior(
        values=values,
        class_names=None if names is None else [str(n) for n in names],
        source=path)


def missing_prior_message(path: str, config: str = 'CONFIG',
                          checkpoint: str = 'CHECKPOINT',
                          key: str = '') -> str:
    """What to do about a prior file that does not exist: the command that
    writes it (``config`` and ``checkpoint``: the fine-tuning config and the
    in-distribution checkpoint it starts from; ``tools/train.py`` names
    both, and the config ``key`` that names the file)."""
    where = f' ({key})' if key else ''
    return (f'The class prior file {path}{where} does not exist (nor is it a '
            f'named prior: {", ".join(sorted(NAMED_PRIORS))}). Estimate it '
            'with the in-distribution checkpoint the fine-tuning starts '
            f'from:\n  python tools/estimate_prior.py {config} {checkpoint} '
            f'--prior-file {path}')


def names_a_prior_file(prior: object) -> bool:
    """Whether a loss's ``prior`` argument is a path to a prior JSON file
    (not a name in :data:`NAMED_PRIORS`, nor ``'online'``, nor values)."""
    return isinstance(prior, str) and prior != 'online' and \
        prior not in NAMED_PRIORS


def resolve_prior(prior: PriorLike,
                  class_names: Optional[Sequence[str]] = None
                  ) -> Optional[ClassPrior]:
    """Turn a loss's ``prior`` argument into a :class:`ClassPrior`.

    Args:
        prior: None (uniform prior, sized from the logits at the first
            forward), a name in :data:`NAMED_PRIORS` (e.g.
            ``'cityscapes-coco-released'``), a path to a prior JSON file, or
            a sequence of C non-negative numbers.
        class_names: Optional class names to check against the prior: their
            number must equal the prior's length, and if the file records
            names too they must be the same, in the same order.

    Returns:
        ClassPrior or None: None means "uniform".

    Raises:
        FileNotFoundError: If ``prior`` is a string that is neither a known
            name nor an existing file.
        ValueError: On an invalid prior or disagreeing class names.
    """
    if prior is None:
        return None
    if isinstance(prior, str) and prior in NAMED_PRIORS:
        resolved = ClassPrior(
            values=validate_prior_values(NAMED_PRIORS[prior], source=prior),
            class_names=None, source=prior)
    elif isinstance(prior, str):
        if not osp.isfile(prior):
            raise FileNotFoundError(missing_prior_message(prior))
        resolved = load_prior_file(prior)
    else:
        resolved = ClassPrior(
            values=validate_prior_values(prior), class_names=None,
            source='list')
    if class_names is None:
        return resolved
    names = [str(n) for n in class_names]
    if len(names) != len(resolved.values):
        raise ValueError(
            f'class_names has {len(names)} entries but the prior from '
            f'{resolved.source} has {len(resolved.values)}.')
    if resolved.class_names is not None and resolved.class_names != names:
        diff = [(i, a, b) for i, (a, b) in
                enumerate(zip(resolved.class_names, names)) if a != b]
        raise ValueError(
            f'The class names recorded in {resolved.source} disagree with the '
            f'class_names argument at (index, file, argument): {diff}. The '
            'prior was estimated for another class order; re-estimate it or '
            'fix class_names.')
    return ClassPrior(values=resolved.values, class_names=names,
                      source=resolved.source)


def sharpen_prior(prior: Tensor, gamma: float) -> Tensor:
    """``pi**g / sum(pi**g)``: the sharpened prior ``pi_g`` of the loss.

    Args:
        prior: ``(C,)`` non-negative prior (its scale does not matter).
        gamma: The sharpening exponent g.

    Returns:
        Tensor: The sharpened prior, summing to 1, in ``prior``'s dtype
        (computed in float64).
    """
    powered = prior.double().pow(gamma)
    return (powered / powered.sum()).to(prior.dtype)


def _prior_tensor(values: Union[Tensor, Sequence[float]]) -> Tensor:
    """A float64 CPU copy of a prior given as a tensor or as numbers (the
    numbers are checked and normalised first)."""
    if isinstance(values, Tensor):
        return values.detach().double().cpu()
    return torch.tensor(validate_prior_values(values), dtype=torch.float64)


def sharpened(values: Union[Tensor, Sequence[float]],
              gamma: float) -> List[float]:
    """:func:`sharpen_prior` of a prior given as numbers, as numbers.

    Args:
        values: A prior (normalised here first).
        gamma: The sharpening exponent g.

    Returns:
        list[float]: The sharpened prior, summing to 1.
    """
    return sharpen_prior(_prior_tensor(values), gamma).tolist()


def effective_num_classes(values: Sequence[float]) -> float:
    """Effective number of classes of a prior: ``1 / sum(p**2)``.

    The inverse Simpson index (Hill number of order 2): C for a uniform
    prior over C classes, 1 for a prior on one class, k for a prior spread
    evenly over k of them.

    Args:
        values: A prior (normalised here first).

    Returns:
        float: The effective number of classes, in [1, C].
    """
    p = validate_prior_values(values)
    return 1.0 / math.fsum(v * v for v in p)


def released_margin_shift_fraction(gamma1: float = 3.0,
                                   alpha: float = 5.0,
                                   m_in: float = -12.0,
                                   m_out: float = -6.0) -> float:
    """The largest margin shift of the released setting, as a fraction of
    its margin gap: ``alpha * max(pi_g1) / (m_out - m_in)`` with the released
    Cityscapes prior (about 5 x 0.290 / 6 = 0.242).

    Returns:
        float: The fraction :func:`scaled_alpha` keeps by default.
    """
    top = max(sharpened(_RELEASED_CITYSCAPES_PRIOR, gamma1))
    return alpha * top / (m_out - m_in)


def scaled_alpha(values: Union[Tensor, Sequence[float]], gamma1: float,
                 m_in: float, m_out: float,
                 fraction: Optional[float] = None) -> float:
    """This project's rule for alpha at margins other than the released ones
    (not the paper's): choose alpha so that the largest margin shift,
    ``alpha * max(pi_g1)``, is ``fraction`` of the margin gap
    ``m_out - m_in``::

        alpha = fraction * (m_out - m_in) / max(pi_g1)

    With the released prior, gamma and margins this gives back alpha = 5.

    Args:
        values: The outlier class prior (a tensor, or numbers normalised
            here first).
        gamma1: Sharpening of the prior in the margin term.
        m_in: Inlier energy margin.
        m_out: Outlier energy margin, above ``m_in``.
        fraction: The shift as a fraction of the gap; None: the released
            setting's, :func:`released_margin_shift_fraction`.

    Returns:
        float: alpha.
    """
    if m_out <= m_in:
        raise ValueError(f'm_out ({m_out}) must be above m_in ({m_in}).')
    if fraction is None:
        fraction = released_margin_shift_fraction()
    if fraction < 0:
        raise ValueError(f'fraction must be >= 0, got {fraction}.')
    top = float(sharpen_prior(_prior_tensor(values), gamma1).max())
    return fraction * (m_out - m_in) / top


def outlier_class_counts(logits: Tensor, label: Tensor, ood_index: int,
                         num_classes: Optional[int] = None,
                         mode: str = 'argmax') -> Tensor:
    """How the model classifies the outlier pixels: the counts the prior is
    the normalised form of.

    Args:
        logits: ``(N, K, H, W)`` logits at the labels' size.
        label: ``(N, H, W)`` labels; pixels equal to ``ood_index`` count.
        ood_index: Label of the outlier pixels.
        num_classes: C, the classes counted (the first C channels); None:
            all K.
        mode: ``'argmax'`` counts each pixel's predicted class; ``'soft'``
            sums the pixels' softmax probabilities over the C classes.

    Returns:
        Tensor: ``(C,)`` float64 counts on the CPU (zeros without outlier
        pixels).
    """
    if mode not in ('argmax', 'soft'):
        raise ValueError(f"mode must be 'argmax' or 'soft', got {mode!r}")
    channels = logits.shape[1] if num_classes is None else num_classes
    outlier = label == ood_index
    picked = logits[:, :channels].detach().permute(0, 2, 3, 1)[outlier]
    if mode == 'argmax':
        return torch.bincount(picked.argmax(1).cpu(),
                              minlength=channels).double()
    return picked.float().softmax(1).sum(0).double().cpu()
