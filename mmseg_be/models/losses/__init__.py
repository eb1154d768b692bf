"""OOD-aware losses, registered in MMSeg's MODELS.

The maths lives in :mod:`._functional` (one pure function per loss); each
module here (:class:`BalancedEnergyLoss`, :class:`EnergyLoss`,
:class:`OODCrossEntropyLoss`, :class:`PALLoss`) only holds configuration,
with the arguments they share in :class:`BaseOODLoss`. The class prior of the
balanced loss (files, lists, named priors) is read by :mod:`.prior`.
"""
from .balanced_energy_loss import BalancedEnergyLoss
from .base import BaseOODLoss
from .energy_loss import EnergyLoss
from .ood_cross_entropy import OODCrossEntropyLoss
from .pal_loss import PALLoss
from .prior import (NAMED_PRIORS, ClassPrior, load_prior_file,
                    outlier_class_counts, resolve_prior)

__all__ = [
    'BalancedEnergyLoss', 'BaseOODLoss', 'EnergyLoss', 'OODCrossEntropyLoss',
    'PALLoss', 'NAMED_PRIORS', 'ClassPrior', 'load_prior_file',
    'outlier_class_counts', 'resolve_prior'
]
