"""BalancedEnergyLoss(prior='online'): convergence, checkpoints, processes."""
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import mmseg_be  # noqa: F401
from mmseg_be.models.losses import BalancedEnergyLoss

C = 4


def forced_batch(n: int = 2, h: int = 6, w: int = 8, seed: int = 0):
    """Logits whose argmax is known per pixel, with some outlier pixels."""
    g = torch.Generator().manual_seed(seed)
    classes = torch.randint(0, C, (n, h, w), generator=g)
    logits = torch.nn.functional.one_hot(classes, C).permute(0, 3, 1,
                                                             2).float() * 5
    label = torch.randint(0, C, (n, h, w), generator=g)
    label[:, :3] = 254
    label[:, -1] = 255
    return logits, label, classes


def histogram(classes, label):
    """Plain count of the argmax classes on outlier pixels."""
    counts = [0] * C
    for c, y in zip(classes.flatten().tolist(), label.flatten().tolist()):
        if y == 254:
            counts[c] += 1
    total = sum(counts)
    return torch.tensor([v / total for v in counts])


def test_converges_to_the_fixed_distribution():
    loss = BalancedEnergyLoss(prior='online', num_classes=C,
                              online_momentum=0.9).train()
    logits, label, classes = forced_batch()
    target = histogram(classes, label)
    for _ in range(300):
        loss(logits, label)
    torch.testing.assert_close(loss.online_prior, target, atol=1e-6,
                               rtol=0)
    # The first step from uniform is exactly m * uniform + (1 - m) * hist.
    fresh = BalancedEnergyLoss(prior='online', num_classes=C,
                               online_momentum=0.9).train()
    fresh(logits, label)
    torch.testing.assert_close(fresh.online_prior,
                               0.9 * torch.full((C, ), 0.25) + 0.1 * target)


def test_eval_mode_and_batches_without_outliers_leave_it_unchanged():
    loss = BalancedEnergyLoss(prior='online', num_classes=C)
    logits, label, _ = forced_batch()
    loss.eval()
    loss(logits, label)
    assert torch.equal(loss.online_prior, torch.full((C, ), 0.25))
    loss.train()
    label[label == 254] = 0
    loss(logits, label)
    assert torch.equal(loss.online_prior, torch.full((C, ), 0.25))


def test_starts_from_a_file_and_needs_a_size(tmp_path):
    path = tmp_path / 'p.json'
    path.write_text('{"prior": [1, 1, 2, 4], "class_names": null}')
    loss = BalancedEnergyLoss(prior='online', online_init=str(path))
    torch.testing.assert_close(loss.online_prior,
                               torch.tensor([0.125, 0.125, 0.25, 0.5]))
    with pytest.raises(ValueError, match='num_classes'):
        BalancedEnergyLoss(prior='online')


def test_estimate_is_saved_and_restored_with_the_state_dict(tmp_path):
    loss = BalancedEnergyLoss(prior='online', num_classes=C).train()
    logits, label, _ = forced_batch()
    loss(logits, label)
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': loss.state_dict()}, path)
    restored = BalancedEnergyLoss(prior='online', num_classes=C)
    restored.load_state_dict(
        torch.load(path, weights_only=True)['state_dict'])
    assert torch.equal(restored.online_prior, loss.online_prior)
    assert not torch.equal(restored.online_prior, torch.full((C, ), 0.25))


def _worker(rank, port, steps, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    loss = BalancedEnergyLoss(prior='online', num_classes=C,
                              online_momentum=0.7).train()
    for step in range(steps):
        logits, label, _ = forced_batch(n=4, seed=step)
        half = slice(2 * rank, 2 * rank + 2)  # each rank half of the batch
        loss(logits[half], label[half])
    if rank == 0:
        torch.save(loss.online_prior, out)
    dist.destroy_process_group()


def test_two_gloo_processes_equal_one(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = str(tmp_path / 'two.pth')
    mp.start_processes(_worker, args=(port, 3, out), nprocs=2,
                       start_method='spawn')
    single = BalancedEnergyLoss(prior='online', num_classes=C,
                                online_momentum=0.7).train()
    for step in range(3):
        logits, label, _ = forced_batch(n=4, seed=step)
        single(logits, label)
    assert torch.equal(torch.load(out), single.online_prior)


def test_runner_checkpoint_and_resume_keep_the_estimate(tmp_path):
    from mmengine.runner import Runner

    from tests.helpers import tiny_cfg, write_toy_seg_dataset
    data = write_toy_seg_dataset(str(tmp_path / 'data'), ood_value=254)
    decode = [dict(type='OODCrossEntropyLoss'),
              dict(type='BalancedEnergyLoss', prior='online', num_classes=4,
                   online_momentum=0.5)]
    cfg = tiny_cfg(data, str(tmp_path / 'work'), decode_loss=decode,
                   aux_loss=dict(type='OODCrossEntropyLoss',
                                 loss_weight=0.4))
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg.pop('val_interval')
    Runner.from_cfg(cfg).train()
    saved = torch.load(str(tmp_path / 'work' / 'iter_2.pth'),
                       weights_only=True)['state_dict']
    estimate = saved['decode_head.loss_decode.1.online_prior']
    assert not torch.equal(estimate, torch.full((4, ), 0.25))
    assert torch.isclose(estimate.sum(), torch.tensor(1.0))

    cfg.resume = True  # max_iters reached: resume only loads the state
    runner = Runner.from_cfg(cfg)
    runner.train()
    loss = runner.model.decode_head.loss_decode[1]
    assert torch.equal(loss.online_prior, estimate)
