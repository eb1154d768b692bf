"""Prior diagnostics (effective number of classes) and this project's
alpha-scaling rule, against hand-computed values."""
import math

import numpy as np
import pytest
import torch

from mmseg_be.models.losses.balanced_energy_loss import BalancedEnergyLoss
from mmseg_be.models.losses._functional import balanced_energy_loss
from mmseg_be.models.losses.prior import (NAMED_PRIORS,
                                          effective_num_classes,
                                          released_margin_shift_fraction,
                                          scaled_alpha, sharpened)


def test_effective_num_classes_hand_computed():
    assert effective_num_classes([0.25] * 4) == pytest.approx(4.0)
    assert effective_num_classes([1.0, 0.0, 0.0]) == pytest.approx(1.0)
    assert effective_num_classes([0.5, 0.5, 0.0, 0.0]) == pytest.approx(2.0)
    # 1 / (0.25 + 0.09 + 0.04) = 1 / 0.38
    assert effective_num_classes([0.5, 0.3, 0.2]) == pytest.approx(1 / 0.38)
    # Counts are normalised first: the same prior.
    assert effective_num_classes([5, 3, 2]) == pytest.approx(1 / 0.38)


def test_sharpened_hand_computed():
    # (0.125, 0.027, 0.008) / 0.16
    assert sharpened([0.5, 0.3, 0.2], 3) == pytest.approx(
        [0.78125, 0.16875, 0.05])
    # effective classes of that: 1 / (0.78125^2 + 0.16875^2 + 0.05^2)
    assert effective_num_classes(sharpened([0.5, 0.3, 0.2], 3)) == \
        pytest.approx(1 / (0.6103515625 + 0.0284765625 + 0.0025))


def test_scaled_alpha_hand_computed():
    # max(pi_3) = 0.78125; 0.25 x gap 4 / 0.78125 = 1.28
    assert scaled_alpha([0.5, 0.3, 0.2], 3, -7, -3, 0.25) == \
        pytest.approx(1.28)
    # Uniform prior over C: max(pi_g) = 1/C, alpha = f x gap x C and the
    # shift alpha/C is f x gap.
    assert scaled_alpha([1, 1, 1, 1, 1], 3, -12, -6, 0.2) == \
        pytest.approx(0.2 * 6 * 5)


def test_released_fraction_gives_back_released_alpha():
    pi = np.array(NAMED_PRIORS['cityscapes-coco-released'], dtype=np.float64)
    pi = pi / pi.sum()
    top = (pi**3).max() / (pi**3).sum()  # numpy, independent of the code
    assert top == pytest.approx(0.2905, abs=5e-4)  # the 0.29
    assert released_margin_shift_fraction() == pytest.approx(5 * top / 6)
    assert released_margin_shift_fraction() == pytest.approx(0.242,
                                                             abs=1e-3)
    # Another prior and other margins, by the formula in numpy:
    # alpha = fraction x gap / max(pi_g1).
    other = np.array([0.6, 0.25, 0.1, 0.05])
    other_top = (other**3).max() / (other**3).sum()
    assert scaled_alpha(other.tolist(), 3, -20, -4) == pytest.approx(
        (5 * top / 6) * 16 / other_top)
    # A tensor prior (the loss's buffer) gives the same alpha.
    assert scaled_alpha(torch.tensor(other, dtype=torch.float32), 3, -20,
                        -4) == pytest.approx((5 * top / 6) * 16 / other_top,
                                             rel=1e-6)
    # About 4.8 effective classes after sharpening (the figure).
    sharp = (pi**3) / (pi**3).sum()
    assert effective_num_classes(sharpened(pi.tolist(), 3)) == \
        pytest.approx(1 / (sharp**2).sum())
    assert 4.7 < 1 / (sharp**2).sum() < 4.9


def test_scaled_loss_equals_explicit_alpha():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    label = torch.randint(0, 3, (2, 6, 6))
    label[:, :2] = 254
    loss = BalancedEnergyLoss(prior=[0.5, 0.3, 0.2], alpha='scaled',
                              margin_shift_fraction=0.25, m_in=-7.0,
                              m_out=-3.0, loss_weight=1.0)
    expected = balanced_energy_loss(
        logits, label, torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64),
        alpha=1.28, m_in=-7.0, m_out=-3.0)
    # rel 1e-6: the loss holds its prior as a float32 buffer.
    assert float(loss(logits, label)) == pytest.approx(float(expected),
                                                       rel=1e-6)
    # Default fraction: the released one.
    default = BalancedEnergyLoss(prior=[0.5, 0.3, 0.2], alpha='scaled',
                                 m_in=-7.0, m_out=-3.0)
    assert default.effective_alpha(default.prior) == pytest.approx(
        released_margin_shift_fraction() * 4 / 0.78125, rel=1e-6)
    # The released defaults stay the defaults.
    assert BalancedEnergyLoss().alpha == 5.0


def test_scaled_alpha_rejects_bad_settings():
    with pytest.raises(ValueError, match='scaled'):
        BalancedEnergyLoss(alpha='auto')
    with pytest.raises(ValueError, match='margin_shift_fraction'):
        BalancedEnergyLoss(margin_shift_fraction=0.2)
    with pytest.raises(ValueError, match='above'):
        BalancedEnergyLoss(alpha='scaled', m_in=-3.0, m_out=-7.0)
    with pytest.raises(ValueError):
        scaled_alpha([0.5, 0.5], 3, -7, -3, -0.1)
    assert math.isfinite(scaled_alpha([0.5, 0.5], 3, -7, -3))
