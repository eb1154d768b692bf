"""The mmcv-lite stand-in and the checkpoint allow-list of mmseg_be.compat.

Each case runs in a fresh interpreter: the stand-in acts on sys.modules at
import time, which a shared test process cannot undo.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import REPO


def run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=300)


def test_mmseg_imports_and_compiled_op_fails_clearly():
    proc = run_python('''
        import sys
        import mmseg_be
        import mmseg.models, mmseg.datasets, mmseg.apis  # fail without stand-in
        import mmcv.ops, torch
        assert isinstance(sys.modules['mmcv._ext'],
                          mmseg_be.compat._CompiledOpsStandIn)
        try:
            mmcv.ops.nms(torch.zeros(2, 4), torch.zeros(2), 0.5)
        except mmseg_be.compat.MissingCompiledOpError as e:
            print('ERROR:', e)
    ''')
    assert proc.returncode == 0, proc.stderr
    message = proc.stdout.split('ERROR:', 1)[1]
    assert '`nms`' in message
    assert 'full mmcv' in message and 'docs/install.md' in message


def test_ops_bound_model_fails_only_when_called():
    # PSANet's PSAMask calls the compiled psamask op; building it is fine.
    proc = run_python('''
        import torch, mmseg_be
        from mmseg.registry import MODELS
        head = MODELS.build(dict(type='PSAHead', in_channels=8, channels=4,
                                 num_classes=3, mask_size=(5, 5)))
        try:
            head.psamask_collect(torch.zeros(1, 25, 5, 5))
        except mmseg_be.compat.MissingCompiledOpError as e:
            print('ERROR:', e)
    ''')
    assert proc.returncode == 0, proc.stderr
    assert 'psamask' in proc.stdout.split('ERROR:', 1)[1]


def test_standin_not_installed_when_full_mmcv_present():
    # A meta-path finder makes `mmcv._ext` importable, as full mmcv does.
    proc = run_python('''
        import importlib.abc, importlib.machinery, sys, types

        class FakeExtFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
            def find_spec(self, name, path=None, target=None):
                if name == 'mmcv._ext':
                    return importlib.machinery.ModuleSpec(name, self)
            def create_module(self, spec):
                class CompiledExt(types.ModuleType):
                    # Answers every op name, as the real compiled module does.
                    def __getattr__(self, name):
                        if name.startswith('__'):
                            raise AttributeError(name)
                        return lambda *args, **kwargs: 'real op'
                module = CompiledExt(spec.name)
                module.compiled_for_real = True
                return module
            def exec_module(self, module):
                pass

        sys.meta_path.insert(0, FakeExtFinder())
        import mmseg_be
        from mmseg_be.compat import has_compiled_mmcv_ops
        assert has_compiled_mmcv_ops()
        assert not isinstance(sys.modules.get('mmcv._ext'),
                              mmseg_be.compat._CompiledOpsStandIn)
        import mmcv._ext
        assert mmcv._ext.compiled_for_real
        print('REAL-EXT-KEPT')
    ''')
    assert proc.returncode == 0, proc.stderr
    assert 'REAL-EXT-KEPT' in proc.stdout


def test_checkpoint_allow_list_is_exact(tmp_path):
    """An mmengine checkpoint loads weights-only; other globals still refused."""
    proc = run_python(f'''
        import collections, decimal, pickle, numpy as np, torch
        from mmengine.logging import HistoryBuffer, MessageHub
        ckpt = {{'meta': {{'iter': 2}},
                 'message_hub': {{'log_scalars': {{'loss': HistoryBuffer(
                     np.array([1.5, 2.5]), np.array([1, 1]))}},
                     'runtime_info': {{'epoch': 0, 'arr': np.arange(3)}}}},
                 'state_dict': collections.OrderedDict(w=torch.ones(2))}}
        torch.save(ckpt, {str(tmp_path / 'a.pth')!r})
        try:
            torch.load({str(tmp_path / 'a.pth')!r})
            print('LOADED-BEFORE')
        except pickle.UnpicklingError:
            print('REFUSED-BEFORE')
        import mmseg_be
        out = torch.load({str(tmp_path / 'a.pth')!r})
        assert out['message_hub']['log_scalars']['loss'].current() == 2.5
        assert out['message_hub']['runtime_info']['arr'].tolist() == [0, 1, 2]
        torch.save({{'x': decimal.Decimal('1.5')}}, {str(tmp_path / 'b.pth')!r})
        try:
            torch.load({str(tmp_path / 'b.pth')!r})
            print('OTHER-LOADED')
        except pickle.UnpicklingError:
            print('OTHER-REFUSED')
    ''')
    assert proc.returncode == 0, proc.stderr
    assert 'REFUSED-BEFORE' in proc.stdout
    assert 'OTHER-REFUSED' in proc.stdout


def test_import_without_any_mmcv_names_both_choices():
    # A finder that hides every mmcv module, as in an environment where
    # neither mmcv-lite nor full mmcv was installed.
    proc = run_python('''
        import importlib.abc, sys

        class NoMmcv(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == 'mmcv' or name.startswith('mmcv.'):
                    raise ModuleNotFoundError(f'No module named {name!r}',
                                              name=name)

        sys.meta_path.insert(0, NoMmcv())
        try:
            import mmseg_be
        except ImportError as e:
            print('ERROR:', e)
        assert 'mmseg' not in sys.modules  # stopped before mmseg was reached
    ''')
    assert proc.returncode == 0, proc.stderr
    message = proc.stdout.split('ERROR:', 1)[1]
    assert 'mmcv-lite==2.1.0' in message and '.[cpu]' in message
    assert 'mmseg_be[cpu]' not in message  # not a PyPI name
    assert 'full mmcv' in message and 'GPU' in message
