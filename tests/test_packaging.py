"""A built wheel carries the configs and tools, usable from the install."""
import glob
import os
import shutil
import subprocess
import sys
import textwrap

from tests.helpers import REPO


def test_wheel_ships_configs_and_tools(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    # Build from a copy: building in the checkout would replace the editable
    # install's .mim symlinks.
    for item in ('setup.py', 'README.md', 'mmseg_be', 'configs', 'tools'):
        copy = shutil.copytree if os.path.isdir(os.path.join(
            REPO, item)) else shutil.copy
        copy(os.path.join(REPO, item), src / item, **(
            dict(ignore=shutil.ignore_patterns('__pycache__', '.mim'))
            if copy is shutil.copytree else {}))
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(src),
                    '--no-deps', '--no-build-isolation', '-q', '-w',
                    str(tmp_path / 'dist')], check=True, capture_output=True)
    (wheel, ) = glob.glob(str(tmp_path / 'dist' / '*.whl'))
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
