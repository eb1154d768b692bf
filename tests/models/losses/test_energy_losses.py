"""Energy losses against a plain per-pixel loop oracle written here."""
import math

import pytest
import torch

import mmseg_be  # noqa: F401  (registers the losses)
from mmseg.registry import MODELS
from mmseg_be.models.losses import (BalancedEnergyLoss, EnergyLoss,
                                    OODCrossEntropyLoss)
from mmseg_be.models.losses._functional import (balanced_energy_loss,
                                                energy_loss,
                                                ood_cross_entropy)

OOD, IGN = 254, 255


# ----------------------------------------------------------------- oracle --
def oracle_energy_map(logits, temperature):
    """E[n][i][j] as torch scalars, one pixel at a time."""
    n, c, h, w = logits.shape
    out = [[[None] * w for _ in range(h)] for _ in range(n)]
    for b in range(n):
        for i in range(h):
            for j in range(w):
                total = 0
                for k in range(c):
                    total = total + torch.exp(logits[b, k, i, j] / temperature)
                out[b][i][j] = -temperature * torch.log(total)
    return out


def oracle_balanced(logits, label, prior, gamma1, gamma2, alpha, m_in, m_out,
                    temperature, lam_sparse, lam_smooth, variant,
                    uniform_weights=False):
    """The balanced (or, with uniform_weights and alpha=0, vanilla) loss."""
    n, c, h, w = logits.shape
    energies = oracle_energy_map(logits, temperature)
    pg1 = [p ** gamma1 for p in prior]
    pg1 = [p / sum(pg1) for p in pg1]
    pg2 = [p ** gamma2 for p in prior]
    pg2 = [p / sum(pg2) for p in pg2]
    in_terms, out_num, out_den, shifted_sq = [], 0, 0, 0
    n_out = 0
    for b in range(n):
        for i in range(h):
            for j in range(w):
                y = int(label[b, i, j])
                e = energies[b][i][j]
                if y == IGN:
                    continue
                if y != OOD:
                    in_terms.append(torch.clamp(e - m_in, min=0) ** 2)
                    continue
                n_out += 1
                denom = sum(torch.exp(logits[b, k, i, j]) for k in range(c))
                s = [torch.exp(logits[b, k, i, j]) / denom for k in range(c)]
                z1 = sum(s[k] * pg1[k] for k in range(c))
                z2 = sum(s[k] * pg2[k] for k in range(c))
                if uniform_weights:
                    z2 = 1.0
                et = e - alpha * z1
                out_num = out_num + z2 * torch.clamp(m_out - et, min=0) ** 2
                out_den = out_den + z2
                shifted_sq = shifted_sq + et ** 2
    l_in = sum(in_terms) / len(in_terms) if in_terms else 0.0
    smooth = 0
    for b in range(n):
        for i in range(h):
            for j in range(w):
                if i + 1 < h:
                    smooth = smooth + (energies[b][i + 1][j] -
                                       energies[b][i][j]) ** 2
                if j + 1 < w:
                    smooth = smooth + (energies[b][i][j + 1] -
                                       energies[b][i][j]) ** 2
    smooth = 0.5 * smooth
    released = variant == 'released'
    if n_out == 0:
        return l_in + (lam_smooth * smooth if released else 0)
    loss = 0.5 * (l_in + out_num / out_den)
    if released:
        loss = loss + lam_sparse * torch.sqrt(shifted_sq) + lam_smooth * smooth
    return loss


def make_batch(seed=0, n=2, c=4, h=4, w=5, dtype=torch.float64, scale=4.0):
    gen = torch.Generator().manual_seed(seed)
    logits = (torch.randn(n, c, h, w, generator=gen, dtype=dtype) * scale +
              8.0)
    label = torch.randint(0, c, (n, h, w), generator=gen)
    label[0, :2, :2] = OOD
    label[1, 3, :] = OOD
    label[1, 0, :2] = IGN
    return logits, label


PRIOR = [0.5, 0.1, 0.3, 0.1]
ARGS = dict(gamma1=3.0, gamma2=2.0, alpha=5.0, m_in=-12.0, m_out=-6.0,
            temperature=1.5, lam_sparse=0.05, lam_smooth=0.01)


def module_kwargs(variant):
    return dict(gamma1=ARGS['gamma1'], gamma2=ARGS['gamma2'],
                alpha=ARGS['alpha'], m_in=ARGS['m_in'], m_out=ARGS['m_out'],
                temperature=ARGS['temperature'],
                lambda_sparse=ARGS['lam_sparse'],
                lambda_smooth=ARGS['lam_smooth'], variant=variant)


# ------------------------------------------------------------------ tests --
@pytest.mark.parametrize('variant', ['released', 'pure'])
def test_balanced_matches_loop_oracle_values_and_grads(variant):
    logits, label = make_batch()
    x1 = logits.clone().requires_grad_()
    loss = BalancedEnergyLoss(prior=PRIOR, loss_weight=1.0,
                              **module_kwargs(variant))(x1, label)
    loss.backward()
    x2 = logits.clone().requires_grad_()
    ref = oracle_balanced(x2, label, PRIOR, variant=variant, **ARGS)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-4, atol=1e-7)
    assert x1.grad[1, :, 0, :2].abs().sum() == 0 or variant == 'released'


@pytest.mark.parametrize('variant', ['released', 'pure'])
def test_energy_loss_matches_loop_oracle(variant):
    logits, label = make_batch(seed=1)
    x1 = logits.clone().requires_grad_()
    kw = module_kwargs(variant)
    for key in ('gamma1', 'gamma2', 'alpha'):
        kw.pop(key)
    loss = EnergyLoss(loss_weight=1.0, **kw)(x1, label)
    loss.backward()
    x2 = logits.clone().requires_grad_()
    args = dict(ARGS, alpha=0.0)
    ref = oracle_balanced(x2, label, PRIOR, variant=variant,
                          uniform_weights=True, **args)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-4, atol=1e-7)


def test_ood_cross_entropy_matches_loop_oracle():
    logits, label = make_batch(seed=2, scale=1.0)
    weights = [1.0, 2.0, 0.5, 1.5]
    x1 = logits.clone().requires_grad_()
    loss = OODCrossEntropyLoss(class_weight=weights, loss_weight=2.0)(x1,
                                                                      label)
    loss.backward()
    x2 = logits.clone().requires_grad_()
    num, den = 0, 0
    n, c, h, w = logits.shape
    for b in range(n):
        for i in range(h):
            for j in range(w):
                y = int(label[b, i, j])
                if y in (OOD, IGN):
                    continue
                lse = torch.log(sum(torch.exp(x2[b, k, i, j])
                                    for k in range(c)))
                num = num + weights[y] * (lse - x2[b, y, i, j])
                den += weights[y]
    ref = 2.0 * num / den
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    torch.testing.assert_close(x1.grad, x2.grad)
    # Outlier and void pixels get no gradient at all.
    assert x1.grad.permute(0, 2, 3, 1)[label >= OOD].abs().sum() == 0


def test_gradcheck_float64():
    logits, label = make_batch(h=4, w=3, scale=2.0)
    prior = torch.tensor(PRIOR, dtype=torch.float64)
    x = logits.clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t: balanced_energy_loss(t, label, prior, gamma1=3.0,
                                       gamma2=2.0, temperature=1.5,
                                       lambda_sparse=0.05,
                                       lambda_smooth=0.01), (x, ))
    assert torch.autograd.gradcheck(
        lambda t: energy_loss(t, label, lambda_sparse=0.05,
                              lambda_smooth=0.01), (x, ))
    assert torch.autograd.gradcheck(
        lambda t: ood_cross_entropy(t, label), (x, ))


@pytest.mark.parametrize('variant', ['released', 'pure'])
def test_uniform_prior_is_vanilla_energy_with_shifted_margin(variant):
    logits, label = make_batch(seed=3, c=5)
    c, alpha, m_out = 5, 7.0, -6.0
    # The sparsity term uses E - alpha/C, so it differs by construction.
    common = dict(variant=variant, lambda_sparse=0.0, lambda_smooth=0.02,
                  loss_weight=1.0)
    balanced = BalancedEnergyLoss(prior=None, alpha=alpha, m_out=m_out,
                                  gamma1=2.0, gamma2=0.5, **common)
    vanilla = EnergyLoss(m_out=m_out + alpha / c, **common)
    assert balanced(logits, label).item() == pytest.approx(
        vanilla(logits, label).item(), rel=1e-10)
    # An explicit uniform list is the same as prior=None.
    explicit = BalancedEnergyLoss(prior=[3.0] * c, alpha=alpha, m_out=m_out,
                                  **common)
    assert explicit(logits, label).item() == pytest.approx(
        vanilla(logits, label).item(), rel=1e-10)


def test_no_outlier_batch_is_inlier_term_plus_smoothness():
    logits, label = make_batch(seed=4)
    label[label == OOD] = 1
    x1 = logits.clone().requires_grad_()
    loss = BalancedEnergyLoss(prior=PRIOR, loss_weight=1.0,
                              **module_kwargs('released'))(x1, label)
    loss.backward()
    ref = oracle_balanced(logits, label, PRIOR, variant='released', **ARGS)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    assert torch.isfinite(x1.grad).all()


@pytest.mark.parametrize('fill', [OOD, IGN])
@pytest.mark.parametrize('cls', [BalancedEnergyLoss, EnergyLoss,
                                 OODCrossEntropyLoss])
def test_only_outlier_and_all_ignore_batches_are_finite(fill, cls):
    logits, label = make_batch(seed=5, dtype=torch.float32)
    label[:] = fill
    x = logits.clone().requires_grad_()
    loss = cls()(x, label)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    if cls is OODCrossEntropyLoss:
        assert loss.item() == 0.0
    if fill == IGN and cls is not OODCrossEntropyLoss:
        # Only the smoothness term (over all pixels) is left.
        ref = oracle_balanced(logits.double(), label, PRIOR, gamma1=3,
                              gamma2=3, alpha=5, m_in=-12, m_out=-6,
                              temperature=1, lam_sparse=5e-4,
                              lam_smooth=3e-6, variant='released')
        assert loss.item() == pytest.approx(0.1 * float(ref), rel=1e-4)


def test_only_outlier_batch_value():
    logits, label = make_batch(seed=6)
    label[:] = OOD
    loss = BalancedEnergyLoss(prior=PRIOR, loss_weight=1.0,
                              **module_kwargs('released'))(logits, label)
    ref = oracle_balanced(logits, label, PRIOR, variant='released', **ARGS)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)


def test_abstention_channel_is_excluded():
    logits, label = make_batch(seed=7)
    extra = torch.cat([logits, torch.randn(2, 1, 4, 5).double() * 9], 1)
    extra.requires_grad_()
    for cls, kw in ((BalancedEnergyLoss, dict(prior=PRIOR)), (EnergyLoss, {}),
                    (OODCrossEntropyLoss, {})):
        plain = cls(**kw)(logits, label)
        with_a = cls(num_classes=4, **kw)(extra, label)
        assert with_a.item() == pytest.approx(plain.item(), rel=1e-12)
        extra.grad = None
        with_a.backward()
        assert extra.grad[:, 4].abs().sum() == 0
    with pytest.raises(ValueError, match='num_classes=3'):
        EnergyLoss(num_classes=3)(logits[:, :1], label)


def test_autocast_bf16_computes_in_float32():
    logits, label = make_batch(seed=8, dtype=torch.float32, scale=6.0)
    layer = torch.nn.Conv2d(4, 4, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(4).view(4, 4, 1, 1))
        layer.bias.zero_()
    loss_fn = BalancedEnergyLoss(prior=PRIOR)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        half = layer(logits)
        assert half.dtype == torch.bfloat16
        loss = loss_fn(half, label)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    ref = loss_fn(half.float(), label)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)


def test_bad_inputs_raise_clear_errors():
    logits, label = make_batch(seed=9, dtype=torch.float32)
    with pytest.raises(ValueError, match='4 entries but the logits have 3'):
        BalancedEnergyLoss(prior=PRIOR)(logits[:, :3], label.clamp(max=2))
    with pytest.raises(ValueError, match=r'\(1, -0.2\)'):
        BalancedEnergyLoss(prior=[0.5, -0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match='sums to zero'):
        BalancedEnergyLoss(prior=[0.0, 0.0, 0.0, 0.0])
    bad = label.clone()
    bad[0, 0, 0] = 7
    bad[1, 1, 1] = 100
    for loss in (BalancedEnergyLoss(prior=PRIOR), EnergyLoss(),
                 OODCrossEntropyLoss()):
        with pytest.raises(ValueError, match=r'Labels \[7, 100\]'):
            loss(logits, bad)
        with pytest.raises(ValueError, match='do not match'):
            loss(logits, label[:, :3])
    with pytest.raises(ValueError, match='variant'):
        EnergyLoss(variant='paper')
    with pytest.raises(ValueError, match='sampler'):
        BalancedEnergyLoss()(logits, label, weight=torch.ones(2, 4, 5))


def test_registry_and_loss_names():
    built = [MODELS.build(dict(type=name)) for name in
             ('BalancedEnergyLoss', 'EnergyLoss', 'OODCrossEntropyLoss')]
    assert [b.loss_name for b in built] == [
        'loss_balanced_energy', 'loss_energy', 'loss_ce']
    assert built[0].loss_weight == 0.1 and built[0].m_in == -12
    # The forward's ignore_index (from the decode head) wins.
    logits, label = make_batch(seed=10, dtype=torch.float32)
    relabelled = torch.where(label == IGN, 200, label)
    value = built[2](logits, relabelled, ignore_index=200)
    assert value.item() == pytest.approx(built[2](logits, label).item())
    assert math.isfinite(value.item())
