"""Checkpoints survive a kill or a full disk in the middle of a save.

The fault is injected by the kernel, not timed: the writing subprocess runs
under a file-size limit (``RLIMIT_FSIZE``) smaller than the checkpoint, so
the write stops part-way through the file. With ``SIGXFSZ`` at its default
action the process is killed right there (as by ``kill -9`` mid-write); with
it ignored (Python's default) the write fails with ``EFBIG``, as a full disk
fails with ``ENOSPC``.
"""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.config import Config

import mmseg_be  # noqa: F401
from mmseg_be.engine import AtomicCheckpointHook
from tests.helpers import REPO, TOY_CONFIG, tiny_cfg, write_toy_seg_dataset

LIMIT = 256 * 1024  # bytes; the checkpoints below are 1 MiB

SAVE_SCRIPT = textwrap.dedent('''
    import resource, signal, sys
    import torch
    sys.path.insert(0, {repo!r})
    import mmseg_be
    from mmengine.runner import save_checkpoint
    folder, backend, target, on_limit = sys.argv[1:5]
    args = None if backend == 'local' else dict(backend=backend)
    first = dict(state_dict=dict(w=torch.arange(2**18, dtype=torch.float32)))
    save_checkpoint(first, folder + '/iter_1.pth', backend_args=args)
    signal.signal(signal.SIGXFSZ, getattr(signal, on_limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
    second = dict(state_dict=dict(w=torch.ones(2**18)))
    try:
        save_checkpoint(second, folder + '/' + target, backend_args=args)
    except OSError as error:
        print('save failed:', error.errno)
        sys.exit(3)
''')


def save_under_limit(folder, backend, target, on_limit):
    script = SAVE_SCRIPT.format(repo=REPO, limit=LIMIT)
    proc = subprocess.run(
        [sys.executable, '-c', script, folder, backend, target, on_limit],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    return proc


def loads(path) -> bool:
    try:
        torch.load(path, map_location='cpu')
    except Exception:  # any unpickling or zip error: the file is broken
        return False
    return True


def test_plain_mmengine_save_leaves_a_truncated_checkpoint(tmp_path):
    """The fault as mmengine has it: the final name holds a partial file."""
    proc = save_under_limit(str(tmp_path), 'local', 'iter_2.pth', 'SIG_DFL')
    assert proc.returncode == -signal.SIGXFSZ, proc.stderr[-2000:]
    assert osp.getsize(tmp_path / 'iter_2.pth') == LIMIT
    assert not loads(tmp_path / 'iter_2.pth')


@pytest.mark.parametrize('target', ['iter_2.pth', 'iter_1.pth'])
def test_kill_mid_save_leaves_every_final_checkpoint_loadable(tmp_path,
                                                              target):
    # iter_1.pth as target: a kill while overwriting keeps the old file.
    proc = save_under_limit(str(tmp_path), 'atomic_local', target, 'SIG_DFL')
    assert proc.returncode == -signal.SIGXFSZ, proc.stderr[-2000:]
    finals = sorted(glob.glob(str(tmp_path / '*.pth')))
    assert [osp.basename(p) for p in finals] == ['iter_1.pth']
    state = torch.load(finals[0], map_location='cpu')['state_dict']
    assert torch.equal(state['w'], torch.arange(2**18, dtype=torch.float32))
    # The kill left the half-written temporary file, hidden, beside it.
    (stale, ) = glob.glob(str(tmp_path / f'.{target}.tmp-*'))
    assert osp.getsize(stale) == LIMIT


def test_write_error_mid_save_leaves_no_partial_file(tmp_path):
    proc = save_under_limit(str(tmp_path), 'atomic_local', 'iter_2.pth',
                            'SIG_IGN')
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert 'save failed: 27' in proc.stdout  # EFBIG, as ENOSPC would be
    assert sorted(os.listdir(tmp_path)) == ['iter_1.pth']
    assert loads(tmp_path / 'iter_1.pth')


RUNNER_SCRIPT = textwrap.dedent('''
    import resource, signal, sys
    sys.path.insert(0, {repo!r})
    import mmseg_be
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    from mmseg.registry import HOOKS

    @HOOKS.register_module()
    class LimitFileSizeBeforeIter3(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == 2:
                signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
                resource.setrlimit(resource.RLIMIT_FSIZE,
                                   ({limit}, {limit}))

    cfg = Config.fromfile(sys.argv[1])
    cfg.custom_hooks = [dict(type='LimitFileSizeBeforeIter3')]
    Runner.from_cfg(cfg).train()
''')


def test_runner_killed_while_saving_keeps_previous_checkpoint(tmp_path):
    """max_keep_ckpts=1: mmengine deletes iter_2 before writing iter_3; the
    hook deletes it only after iter_3 is complete, so a kill in the save of
    iter_3 leaves iter_2 and a ``last_checkpoint`` naming it."""
    data = write_toy_seg_dataset(str(tmp_path / 'data'), num_images=2)
    work = str(tmp_path / 'work')
    cfg = tiny_cfg(data, work, max_iters=3)
    cfg.train_cfg.val_interval = 100  # no validation
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook',
                                        by_epoch=False, interval=1,
                                        max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = 100
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    script = RUNNER_SCRIPT.format(repo=REPO, limit=1 << 20)
    proc = subprocess.run([sys.executable, '-c', script, config],
                          capture_output=True, text=True, timeout=600,
                          cwd=str(tmp_path),
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == -signal.SIGXFSZ, proc.stderr[-3000:]
    assert sorted(osp.basename(p) for p in glob.glob(work + '/*.pth')) == [
        'iter_2.pth'
    ]
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read() == osp.join(work, 'iter_2.pth')
    checkpoint = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu')
    assert checkpoint['meta']['iter'] == 2
    assert glob.glob(work + '/.iter_3.pth.tmp-*')  # the killed save's temp
    # The next start (as --resume does) removes that temporary file.
    hook = AtomicCheckpointHook(interval=1, by_epoch=False)

    class FakeRunner:
        work_dir = work
        logger = __import__('logging').getLogger('test')

    hook.before_train(FakeRunner)
    assert not glob.glob(work + '/.*.tmp-*')


def test_training_configs_use_the_atomic_hook():
    # benchmarks/ and baselines/ hold test-only configs (no checkpoints).
    paths = [p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
             if p.split(os.sep)[-2] not in ('benchmarks', 'baselines')]
    for path in [TOY_CONFIG] + paths:
        cfg = Config.fromfile(path)
        if not cfg.get('train_dataloader'):
            continue  # test-only configs save no checkpoints
        assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook', \
            path
