"""The pure loss functions of ``_functional`` on cases small enough to
compute by hand (math on two or three numbers), and the uniform-prior
property of the balanced loss."""
import math

import pytest
import torch

from mmseg_be.models.losses._functional import (balanced_energy_loss,
                                                energy_loss,
                                                ood_cross_entropy,
                                                smoothness_term)
from mmseg_be.models.losses.prior import sharpen_prior
from mmseg_be.scoring import energy_score

OOD, IGN = 254, 255


def pixels(*logit_vectors):
    """(1, C, 1, P) float64 logits from P per-pixel vectors."""
    return torch.tensor(logit_vectors, dtype=torch.float64).T[None, :, None]


def test_energy_by_hand():
    logits = pixels([1.0, 2.0, 3.0])
    by_hand = -math.log(math.e + math.e**2 + math.e**3)  # -3.4076...
    assert energy_score(logits).item() == pytest.approx(by_hand, abs=1e-12)
    # T = 2: -2 * log(e^0.5 + e^1 + e^1.5)
    by_hand_t2 = -2 * math.log(math.exp(0.5) + math.e + math.exp(1.5))
    assert energy_score(logits, temperature=2.0).item() == pytest.approx(
        by_hand_t2, abs=1e-12)


def test_sharpen_prior_by_hand():
    # [1/2, 1/4, 1/4]**2 = [1/4, 1/16, 1/16], sum 3/8.
    out = sharpen_prior(torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64),
                        2.0)
    assert out.tolist() == pytest.approx([2 / 3, 1 / 6, 1 / 6])


def test_smoothness_term_by_hand():
    energy = torch.tensor([[[0.0, 1.0], [3.0, 5.0]]])
    # vertical: 3^2 + 4^2 = 25, horizontal: 1^2 + 2^2 = 5; half of 30
    assert smoothness_term(energy).item() == 15.0


def test_energy_loss_pure_by_hand():
    # Inlier pixel with logits (0, 0): E = -log 2; outlier (10, 10):
    # E = -10 - log 2; a void pixel that must not count.
    logits = pixels([0.0, 0.0], [10.0, 10.0], [50.0, -50.0])
    label = torch.tensor([[[0, OOD, IGN]]])
    l_in = (-math.log(2) + 12) ** 2
    l_out = (-6 + 10 + math.log(2)) ** 2
    got = energy_loss(logits, label, m_in=-12.0, m_out=-6.0, variant='pure')
    assert got.item() == pytest.approx(0.5 * (l_in + l_out), rel=1e-12)
    # Released: + 5e-4 * |E_OOD| + 3e-6 * 0.5 * sum of squared neighbour
    # differences over all three pixels, void included.
    e = [-math.log(2), -10 - math.log(2), -50 - math.log(1 + math.exp(-100))]
    smooth = 0.5 * ((e[1] - e[0]) ** 2 + (e[2] - e[1]) ** 2)
    released = energy_loss(logits, label)
    assert released.item() == pytest.approx(
        0.5 * (l_in + l_out) + 5e-4 * abs(e[1]) + 3e-6 * smooth, rel=1e-12)


def test_balanced_energy_loss_by_hand():
    # One inlier (0, 0) and one outlier pixel (10, 10 + log 3): softmax
    # (1/4, 3/4), E = -10 - log 4. Prior (1/2, 1/2) sharpened is itself, so
    # Z1 = Z2 = 1/2 and the margin shift is alpha / 2.
    logits = pixels([0.0, 0.0], [10.0, 10.0 + math.log(3)])
    label = torch.tensor([[[1, OOD]]])
    prior = torch.tensor([0.5, 0.5], dtype=torch.float64)
    got = balanced_energy_loss(logits, label, prior, alpha=4.0, m_in=-12.0,
                               m_out=-6.0, variant='pure')
    l_in = (-math.log(2) + 12) ** 2
    l_out = (-6 - (-10 - math.log(4) - 4.0 / 2)) ** 2
    assert got.item() == pytest.approx(0.5 * (l_in + l_out), rel=1e-12)
    # A skewed prior: (3/4, 1/4) with gamma 1; Z = 1/4*3/4 + 3/4*1/4 = 3/8.
    skewed = torch.tensor([0.75, 0.25], dtype=torch.float64)
    got = balanced_energy_loss(logits, label, skewed, gamma1=1.0, gamma2=1.0,
                               alpha=4.0, variant='pure')
    l_out = (-6 - (-10 - math.log(4) - 4.0 * 3 / 8)) ** 2
    assert got.item() == pytest.approx(0.5 * (l_in + l_out), rel=1e-12)


@pytest.mark.parametrize('gammas', [(3.0, 3.0), (0.5, 2.0)])
def test_uniform_prior_reduces_to_vanilla_energy(gammas):
    # Z is the constant 1/C: every outlier pixel has the same weight and the
    # margin m_out + alpha / C.
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 3, 5, generator=gen, dtype=torch.float64) * 4
    label = torch.randint(0, 4, (2, 3, 5), generator=gen)
    label[0, 1:, 2:] = OOD
    label[1, 0, :] = IGN
    uniform = torch.full((4, ), 0.25, dtype=torch.float64)
    balanced = balanced_energy_loss(logits, label, uniform, gamma1=gammas[0],
                                    gamma2=gammas[1], alpha=6.0, m_out=-6.0,
                                    variant='pure')
    vanilla = energy_loss(logits, label, m_out=-6.0 + 6.0 / 4,
                          variant='pure')
    assert balanced.item() == pytest.approx(vanilla.item(), rel=1e-12)
    # alpha = 0 with any prior is vanilla energy at the same margin.
    skewed = torch.tensor([0.7, 0.1, 0.1, 0.1], dtype=torch.float64)
    no_shift = balanced_energy_loss(logits, label, skewed, alpha=0.0,
                                    gamma2=0.0, variant='pure')
    assert no_shift.item() == pytest.approx(
        energy_loss(logits, label, variant='pure').item(), rel=1e-12)


def test_ood_cross_entropy_by_hand():
    # Logits (0, log 3) on class 1: p = 3/4. The outlier and void pixels are
    # left out of the mean.
    logits = pixels([0.0, math.log(3)], [0.0, 0.0], [5.0, 0.0], [1.0, 2.0])
    label = torch.tensor([[[1, 0, OOD, IGN]]])
    got = ood_cross_entropy(logits, label)
    assert got.item() == pytest.approx(
        (-math.log(0.75) - math.log(0.5)) / 2, rel=1e-12)
