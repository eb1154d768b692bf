"""OOD-aware losses, registered in MMSeg's MODELS.

The maths lives in :mod:`.energy` (pure functions); the modules here only hold
configuration (PAL's maths sits beside its module in :mod:`.pal_loss`). The
pure functions are not re-exported at package level because ``energy_loss``
is also the name of a submodule.
"""
from . import energy
from .balanced_energy_loss import BalancedEnergyLoss
from .energy_loss import EnergyLoss
from .ood_cross_entropy import OODCrossEntropyLoss
from .pal_loss import PALLoss
from .prior import (NAMED_PRIORS, ClassPrior, load_prior_file,
                    released_cityscapes_prior, resolve_prior)

__all__ = [
    'energy', 'BalancedEnergyLoss', 'EnergyLoss', 'OODCrossEntropyLoss',
    'PALLoss', 'NAMED_PRIORS', 'ClassPrior', 'load_prior_file',
    'released_cityscapes_prior', 'resolve_prior'
]
