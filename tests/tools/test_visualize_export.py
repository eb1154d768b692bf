"""tools/visualize.py, tools/export.py and tools/test.py --out/--show-dir/
--figures on the generated toy data with a CPU-sized DeepLabV3+ R-18.

The checkpoint is a freshly initialised model saved in mmengine's format (the
tools only need weights that load, not a trained model).
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import h5py
import numpy as np
import pytest

import mmseg_be  # noqa: F401
import mmseg_be.export  # noqa: F401
import mmseg_be.visualization  # noqa: F401
from mmseg_be.cli.export import main as export_main
from mmseg_be.cli.visualize import main as visualize_main
from tests.helpers import REPO, write_toy_ood_checkpoint

H, W = 64, 96


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """Toy data (val labels 0 inlier / 1 anomaly / 255), config, checkpoint."""
    return write_toy_ood_checkpoint(str(tmp_path_factory.mktemp('toy')))


def with_broken_image(toy, tmp_path) -> str:
    folder = str(tmp_path / 'images')
    os.makedirs(folder)
    for path in sorted(glob.glob(osp.join(toy['images'], '*.png'))):
        os.symlink(path, osp.join(folder, osp.basename(path)))
    with open(osp.join(folder, 'broken.png'), 'wb') as f:
        f.write(b'not a png')
    return folder


def test_visualize_folder_with_a_broken_image(toy, tmp_path, capsys):
    from mmseg.apis import inference_model
    from mmseg_be.apis import AnomalyInferencer
    from mmseg_be.scoring import compute_anomaly_score
    out = str(tmp_path / 'vis')
    folder = with_broken_image(toy, tmp_path)
    code = visualize_main([toy['config'], toy['checkpoint'], folder,
                           '--show-dir', out, '--save-scores', '--device',
                           'cpu', '--no-progress', '--norm', 'dataset'])
    err = capsys.readouterr().err
    assert code == 3 and 'broken.png' in err  # EXIT_UNREADABLE
    pngs = sorted(glob.glob(osp.join(out, '*.png')))
    assert [osp.basename(p) for p in pngs] == [f'{i:04d}.png'
                                               for i in range(4)]
    for path in pngs:
        # input | heat map | 64-pixel colour bar, 2-pixel gaps, under a
        # title band of 18 rows (10% of the height, at least 18).
        assert cv2.imread(path).shape == (H + 18, 2 * W + 64 + 4, 3)
    # The saved scores are the model's scores at the image resolution.
    model = AnomalyInferencer(toy['config'], toy['checkpoint'], 'cpu').model
    logits = inference_model(model, osp.join(toy['images'], '0001.png'))
    expected = compute_anomaly_score(logits.seg_logits.data[None],
                                     name='energy')[0].numpy()
    saved = np.load(osp.join(out, '0001.npy'))
    assert saved.shape == (H, W)
    np.testing.assert_allclose(saved, expected, rtol=1e-5, atol=1e-5)


def test_export_resume_refuse_and_unreadable(toy, tmp_path, capsys):
    out = str(tmp_path / 'submission')
    folder = with_broken_image(toy, tmp_path)
    args = [toy['config'], toy['checkpoint'], '--images', folder,
            '--submission', out, '--dataset-name', 'AnomalyTrack-all', '--device', 'cpu',
            '--no-progress', '--mapping', 'minmax', '--low', '-10',
            '--high', '0']
    assert export_main(args + ['--method', 'toy_energy']) == 3
    captured = capsys.readouterr()
    assert 'broken.png: cannot be decoded' in captured.err
    assert '4 frames exported, 0 already there' in captured.out
    files = sorted(glob.glob(osp.join(out, 'anomaly_p', 'toy_energy',
                                      'AnomalyTrack-all', '*.hdf5')))
    assert [osp.basename(p) for p in files] == [f'{i:04d}.hdf5'
                                                for i in range(4)]
    with h5py.File(files[0], 'r') as f:
        assert f['value'].shape == (H, W) and f['value'].dtype == np.float16
    mtimes = [os.stat(p).st_mtime_ns for p in files]
    # Same command again: everything is resumed, nothing rewritten.
    assert export_main(args + ['--method', 'toy_energy']) == 3
    assert '0 frames exported, 4 already there' in capsys.readouterr().out
    assert [os.stat(p).st_mtime_ns for p in files] == mtimes
    # Another method into the same folder is refused...
    assert export_main(args + ['--method', 'other']) == 2
    assert "method 'toy_energy'" in capsys.readouterr().err
    # ...unless --overwrite, which replaces the old method's files.
    assert export_main(args + ['--method', 'other', '--overwrite']) == 3
    left = glob.glob(osp.join(out, 'anomaly_p', '*', '*', '*.hdf5'))
    assert {p.split(os.sep)[-3] for p in left} == {'other'} and len(left) == 4
    manifest = json.load(open(osp.join(out, 'mmseg_be_export.json')))
    assert manifest['method'] == 'other'


def test_test_tool_heat_maps_submission_and_figures(toy, tmp_path):
    show, out, figures = (str(tmp_path / n) for n in ('show', 'sub', 'fig'))
    cmd = [sys.executable, 'tools/test.py', toy['config'], toy['checkpoint'],
           '--work-dir', str(tmp_path / 'work'), '--show-dir', show,
           '--submission', out, '--method', 'toy', '--dataset-name',
           'AnomalyTrack-all', '--figures', figures]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ, OMP_NUM_THREADS='1'),
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    painted = glob.glob(osp.join(show, '**', '*.png'), recursive=True)
    assert len(painted) == 4
    # input | heat map | ground truth (the test labels) | colour bar
    assert all(cv2.imread(p).shape == (H + 18, 3 * W + 64 + 6, 3)
               for p in painted)
    assert len(glob.glob(osp.join(out, 'anomaly_p', 'toy',
                                  'AnomalyTrack-all', '*.hdf5'))) == 4
    summary = json.load(open(osp.join(figures, 'metrics_summary.json')))
    (benchmark, methods), = summary.items()
    assert set(methods['toy']) >= {'AUROC', 'AP', 'FPR95'}
    assert glob.glob(osp.join(figures, 'roc_pr_*.png'))
    assert osp.isfile(osp.join(figures, 'metrics_summary.md'))
    assert osp.isfile(osp.join(figures, 'metrics_summary.csv'))
