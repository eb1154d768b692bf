"""The built wheel: configs and tools inside it, and a fresh install with the
CPU extra that runs every console script and a tiny evaluation."""
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import REPO, write_toy_seg_dataset

def _torch_pin() -> str:
    """The torch requirement as requirements/cpu.txt writes it."""
    with open(os.path.join(REPO, 'requirements', 'cpu.txt')) as f:
        (pin, ) = [line.split('#')[0].strip() for line in f
                   if re.match(r'torch\s*==', line)]
    return pin.replace(' ', '')


TORCH_PIN = _torch_pin()
CONSOLE_SCRIPTS = ('mmseg-be-train', 'mmseg-be-test', 'mmseg-be-export',
                   'mmseg-be-visualize', 'mmseg-be-estimate-prior',
                   'mmseg-be-prepare-coco-outliers',
                   'mmseg-be-convert-checkpoint', 'mmseg-be-check-datasets')


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> str:
    """The package's wheel, built from a copy of the checkout."""
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    src.mkdir()
    # Build from a copy: building in the checkout would replace the editable
    # install's .mim symlinks. The demo is copied too: the wheel must leave
    # it out.
    for item in ('setup.py', 'README.md', 'LICENSE', 'mmseg_be', 'configs',
                 'tools', 'demo'):
        path = os.path.join(REPO, item)
        if os.path.isdir(path):
            shutil.copytree(path, src / item, ignore=shutil.ignore_patterns(
                '__pycache__', '.mim'))
        else:
            shutil.copy(path, src / item)
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(src),
                    '--no-deps', '--no-build-isolation', '-q', '-w',
                    str(tmp / 'dist')], check=True, capture_output=True)
    (built, ) = glob.glob(str(tmp / 'dist' / '*.whl'))
    return built


def test_wheel_ships_configs_and_tools(wheel, tmp_path):
    target = tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--target', str(target), wheel], check=True,
                   capture_output=True)
    code = textwrap.dedent('''
        import os, mmseg_be
        from mmengine.config import Config
        from mmseg_be.utils import config_path, package_root
        assert mmseg_be.__file__.startswith(os.environ['TARGET'])
        root = package_root()
        assert root.endswith('.mim'), root
        assert os.path.isfile(os.path.join(root, 'tools', 'train.py'))
        # The demo is an example of a checkout, not part of the library.
        assert not os.path.exists(os.path.join(root, 'tools', 'demo.py'))
        import importlib.util
        for name in ('demo', 'mmseg_be.demo', 'mmseg_be.cli.demo'):
            assert importlib.util.find_spec(name) is None, name
        path = config_path('demo/deeplabv3plus_r18-d16_synthetic-inlier.py')
        assert path.startswith(root)
        cfg = Config.fromfile(path)  # relative _base_ and mmseg:: bases
        print('DEPTH', cfg.model.backbone.depth)
    ''')
    proc = subprocess.run(
        [sys.executable, '-c', code], cwd=str(tmp_path), capture_output=True,
        text=True, env=dict(os.environ, PYTHONPATH=str(target),
                            TARGET=str(target)), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'DEPTH 18' in proc.stdout
    dist_info = glob.glob(str(target / 'mmseg_be-*.dist-info'))[0]
    licenses = glob.glob(os.path.join(dist_info, '**', 'LICENSE'),
                         recursive=True)
    assert licenses, 'the wheel carries no LICENSE'
    with open(licenses[0]) as f:
        assert 'Apache License' in f.read()


def pinned_constraints(path: str) -> str:
    """This environment's versions as constraints, so the fresh install gets
    the same set (torch stays the CPU build already on disk)."""
    freeze = subprocess.run(
        [sys.executable, '-m', 'pip', 'freeze', '--exclude-editable'],
        check=True, capture_output=True, text=True).stdout
    lines = ['setuptools>=77.0.3,<82']
    for line in freeze.splitlines():
        name, sep, version = line.partition('==')
        if sep and name.lower().replace('_', '-') != 'mmseg-be':
            # '2.13.0+cpu' -> '2.13.0': a local label is not on PyPI.
            lines.append(f'{name}=={version.split("+")[0]}')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


EVAL_SETUP = '''
import glob, sys
import cv2, numpy as np, torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
import mmseg_be
from mmseg.registry import MODELS
from mmseg_be.utils import config_path

root = sys.argv[1]  # the toy data, written by the test
for path in glob.glob(root + '/ann_dir/val/*.png'):  # 0 inlier, 1 anomaly
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    cv2.imwrite(path, np.where(label == 255, 255, label == 254).astype(
        np.uint8))
cfg = Config.fromfile(config_path('smoke/toy_deeplabv3plus_r18.py'))
cfg.test_dataloader.dataset.data_root = root
cfg.test_dataloader.dataset.metainfo = dict(
    classes=('inlier', 'anomaly'), palette=[[0, 160, 0], [255, 0, 0]])
cfg.test_evaluator = dict(type='PixelOODMetric')
cfg.dump(root + '/eval_config.py')
init_default_scope('mmseg')
torch.manual_seed(0)
model = MODELS.build(cfg.model)
torch.save({'state_dict': model.state_dict(), 'meta': {}}, root + '/toy.pth')
'''


def pip_failure(proc) -> str:
    """pip's output without its per-project 'Location ... is ignored'
    warnings (one per package for a missing local index), which otherwise
    push the resolver's reasons out of the message."""
    lines = (proc.stdout + proc.stderr).splitlines()
    kept = [line for line in lines if 'is ignored: it is neither' not in line]
    return '\n'.join(kept)[-5000:]


def test_fresh_install_with_cpu_extra(wheel, tmp_path):
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True,
                   capture_output=True)
    bin_dir = venv / 'bin'
    constraints = pinned_constraints(str(tmp_path / 'constraints.txt'))
    # A new venv carries the pip bundled with Python (23.2 here), whose
    # resolver has refused this set on a CI machine; `make venv` and the
    # install guide upgrade pip first, so the fresh install does as well, to
    # the pip of the environment running the tests.
    pip_version = subprocess.run(
        [sys.executable, '-m', 'pip', '--version'], check=True,
        capture_output=True, text=True).stdout.split()[1]
    proc = subprocess.run(
        [str(bin_dir / 'python'), '-m', 'pip', 'install', '-q',
         f'pip=={pip_version}'], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, pip_failure(proc)
    # Only the wheel and its [cpu] extra are asked for; pip resolves the
    # rest (from the local cache / find-links where present, else PyPI).
    # Not quiet: on a resolution failure the reasons are printed at info
    # level.
    install = [str(bin_dir / 'python'), '-m', 'pip', 'install', '-c',
               constraints, TORCH_PIN, 'setuptools<82', f'{wheel}[cpu]']
    proc = subprocess.run(install, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0:
        # pip reports an index it could not read as "no version", i.e. as a
        # resolution conflict: once more, so that a registry hiccup is not
        # taken for a packaging defect (both outputs are shown if it fails).
        first = pip_failure(proc)
        proc = subprocess.run(install, capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, (f'first try:\n{first}\n\nsecond '
                                      f'try:\n{pip_failure(proc)}')
    listed = subprocess.run([str(bin_dir / 'python'), '-m', 'pip', 'list',
                             '--format=json'], check=True,
                            capture_output=True, text=True).stdout
    installed = {p['name'].lower(): p['version'] for p in json.loads(listed)}
    assert installed.get('mmcv-lite') == '2.1.0', installed
    assert 'mmcv' not in installed
    assert installed['torch'].startswith(TORCH_PIN.split('==')[1])

    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['PATH'] = f'{bin_dir}{os.pathsep}{env.get("PATH", "")}'
    work = tmp_path / 'run'  # not the checkout: nothing may come from it
    work.mkdir()
    for script in CONSOLE_SCRIPTS:
        proc = subprocess.run([str(bin_dir / script), '--help'], cwd=work,
                              env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, (script, proc.stderr[-3000:])
        assert proc.stdout.startswith('usage:'), (script, proc.stdout[:300])

    data = work / 'toy'
    write_toy_seg_dataset(str(data), num_images=2, ood_value=254)
    proc = subprocess.run([str(bin_dir / 'python'), '-c', EVAL_SETUP,
                           str(data)], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = subprocess.run(
        [str(bin_dir / 'mmseg-be-test'), str(data / 'eval_config.py'),
         str(data / 'toy.pth'), '--work-dir', str(work / 'test'),
         '--figures', str(work / 'figures'), '--method', 'toy'],
        cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    with open(work / 'figures' / 'metrics_summary.json') as f:
        (methods, ) = json.load(f).values()
    metrics = methods['toy']
    for key in ('AUROC', 'AP', 'FPR95'):
        assert math.isfinite(metrics[key]) and 0 <= metrics[key] <= 100
