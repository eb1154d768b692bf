"""PALLoss against a plain per-pixel loop oracle written here."""
import math

import pytest
import torch

import mmseg_be  # noqa: F401
from mmseg.registry import MODELS
from mmseg_be.models.losses import PALLoss
from mmseg_be.models.losses._functional import abstention_loss
from mmseg_be.scoring import gaussian_smooth

OOD, IGN = 254, 255


def reflect(i, n):
    """Index of a reflect-padded map (edge not repeated), as torchvision."""
    if i < 0:
        return -i
    if i >= n:
        return 2 * (n - 1) - i
    return i


def oracle_pal(logits, label, c, ksize=7, sigma=1.0, ood_weight=0.1,
               clamp_min=1e-7):
    n, _, h, w = logits.shape
    half = ksize // 2
    taps = [math.exp(-0.5 * ((k - half) / sigma) ** 2) for k in range(ksize)]
    taps = [t / sum(taps) for t in taps]
    total = 0
    for b in range(n):
        sq = [[torch.log(sum(torch.exp(logits[b, k, i, j]) for k in range(c)))
               ** 2 for j in range(w)] for i in range(h)]
        has_ood = any(int(label[b, i, j]) == OOD for i in range(h)
                      for j in range(w))
        in_terms, out_terms = [], []
        for i in range(h):
            for j in range(w):
                y = int(label[b, i, j])
                if y == IGN:
                    continue
                r = 0
                for di in range(ksize):
                    for dj in range(ksize):
                        r = r + taps[di] * taps[dj] * sq[reflect(
                            i + di - half, h)][reflect(j + dj - half, w)]
                denom = sum(torch.exp(logits[b, k, i, j])
                            for k in range(c + 1))
                p = [torch.exp(logits[b, k, i, j]) / denom
                     for k in range(c + 1)]
                boost = p[c] / r
                if y == OOD:
                    out_terms += [torch.log(torch.clamp(p[k] + boost,
                                                        min=clamp_min))
                                  for k in range(c)]
                else:
                    in_terms.append(torch.log(p[y] + boost))
        # Images are routed into two groups whose pixels are pooled.
        yield has_ood, in_terms, out_terms


def oracle_total(logits, label, c, **kw):
    groups = {True: ([], []), False: ([], [])}
    for has_ood, in_terms, out_terms in oracle_pal(logits, label, c, **kw):
        groups[has_ood][0].extend(in_terms)
        groups[has_ood][1].extend(out_terms)
    total = 0
    for has_ood, (in_terms, out_terms) in groups.items():
        if in_terms:
            total = total - sum(in_terms) / len(in_terms)
        if out_terms:
            total = total - kw.get('ood_weight', 0.1) * sum(out_terms) / len(
                out_terms)
    return total


def make_batch(seed=0, n=3, c=3, h=5, w=6, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c + 1, h, w, generator=gen, dtype=dtype) * 2
    label = torch.randint(0, c, (n, h, w), generator=gen)
    label[0, 2:5, 3:7] = OOD  # image 0 and 2 have outliers, image 1 none
    label[2, 4:, :] = OOD
    label[1, 0, :] = IGN
    label[2, :, 0] = IGN
    return logits, label


@pytest.mark.parametrize('ksize,sigma,ood_weight', [(7, 1.0, 0.1),
                                                     (3, 0.7, 0.5)])
def test_pal_matches_loop_oracle_values_and_grads(ksize, sigma, ood_weight):
    logits, label = make_batch()
    x1 = logits.clone().requires_grad_()
    loss = PALLoss(num_classes=3, blur_kernel_size=ksize, blur_sigma=sigma,
                   ood_weight=ood_weight)(x1, label)
    loss.backward()
    x2 = logits.clone().requires_grad_()
    ref = oracle_total(x2, label, 3, ksize=ksize, sigma=sigma,
                       ood_weight=ood_weight)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-9)
    torch.testing.assert_close(x1.grad, x2.grad)


def test_pal_batches_without_outliers_or_inliers():
    logits, label = make_batch(seed=1)
    clean = label.clone()
    clean[clean == OOD] = 0
    ref = oracle_total(logits, clean, 3)
    assert PALLoss()(logits, clean).item() == pytest.approx(ref.item())
    only_ood = torch.full_like(label, OOD)
    x = logits.clone().requires_grad_()
    loss = PALLoss()(x, only_ood)
    loss.backward()
    assert loss.item() == pytest.approx(oracle_total(logits, only_ood,
                                                     3).item())
    all_void = torch.full_like(label, IGN)
    x = logits.clone().requires_grad_()
    loss = PALLoss()(x, all_void)
    loss.backward()
    assert loss.item() == 0 and torch.isfinite(x.grad).all()


def test_pal_clamp_cuts_the_gradient():
    # A hugely negative outlier logit: p_c + a/r falls below the clamp and
    # that entry must give no gradient, as in the released code.
    logits = torch.zeros(1, 3, 8, 8, dtype=torch.float64)
    logits[:, 0] = -200.0
    logits[:, 1] = 10.0     # reward ~ 100
    logits[:, 2] = -200.0   # abstention almost zero too
    label = torch.full((1, 8, 8), OOD)
    x = logits.clone().requires_grad_()
    PALLoss(num_classes=2)(x, label).backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad[:, 0].abs().max() < 1e-12


def test_gradcheck_float64():
    logits, label = make_batch(seed=2, h=4, w=4)
    x = logits.clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t: abstention_loss(t, label, blur_kernel_size=3,
                                  blur_sigma=1.0), (x, ))


def test_blur_matches_loop_and_is_normalised():
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(1, 1, 9, 10, generator=gen, dtype=torch.float64)
    # PAL's reward blur is the anomaly score's smoothing.
    out = gaussian_smooth(x[:, 0], 7, 1.0)[:, None]
    taps = [math.exp(-0.5 * (k - 3) ** 2) for k in range(7)]
    taps = [t / sum(taps) for t in taps]
    i, j = 0, 8
    ref = sum(taps[a] * taps[b] * x[0, 0, reflect(i + a - 3, 9),
                                      reflect(j + b - 3, 10)]
              for a in range(7) for b in range(7))
    assert out[0, 0, i, j].item() == pytest.approx(ref.item())
    const = torch.full((1, 1, 4, 4), 2.5, dtype=torch.float64)
    torch.testing.assert_close(gaussian_smooth(const[:, 0], 7, 1.0)[:, None],
                               const)


def test_pal_bad_inputs():
    logits, label = make_batch(seed=4)
    with pytest.raises(ValueError, match='C\\+1 logit channels'):
        PALLoss(num_classes=4)(logits, label)
    with pytest.raises(ValueError, match='kernel size must be odd'):
        PALLoss(blur_kernel_size=4)
    bad = label.clone()
    bad[0, 0, 0] = 9
    with pytest.raises(ValueError, match=r'Labels \[9\]'):
        PALLoss()(logits, bad)
    with pytest.raises(ValueError, match='sampler'):
        PALLoss()(logits, label, weight=torch.ones_like(label).float())
    built = MODELS.build(dict(type='PALLoss', num_classes=3))
    assert built.loss_name == 'loss_pal'
