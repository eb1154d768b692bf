"""tools/visualize.py and tools/export.py on a photo folder as users have
them: an EXIF-rotated JPEG (stored 64x96), a link loop, a second link to a
photo and a broken link. Oracle: the stored size read by OpenCV's
``IMREAD_UNCHANGED``, and the folder's contents counted by hand."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from PIL import Image

import mmseg_be  # noqa: F401  (registers the package)
from mmseg_be.cli import export, visualize
from mmseg_be.export import read_smiyc_frame
from tests.helpers import write_toy_ood_checkpoint


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return write_toy_ood_checkpoint(str(tmp_path_factory.mktemp('toy')))


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / 'photos'
    folder.mkdir()
    rgb = np.full((64, 96, 3), 80, np.uint8)
    rgb[:16, :24] = 240
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed turned by 90 degrees
    Image.fromarray(rgb).save(folder / 'photo.jpg', 'JPEG',
                              exif=exif.tobytes())
    os.symlink('.', folder / 'loop')
    os.symlink('photo.jpg', folder / 'same_photo.jpg')
    os.symlink('moved.jpg', folder / 'zz_moved.jpg')
    assert cv2.imread(str(folder / 'photo.jpg'),
                      cv2.IMREAD_UNCHANGED).shape[:2] == (64, 96)
    return folder


def test_visualize_takes_each_photo_once_as_stored(toy, photos, tmp_path,
                                                   capsys):
    show_dir = tmp_path / 'heat'
    code = visualize.main([toy['config'], toy['checkpoint'], str(photos),
                           '--show-dir', str(show_dir), '--save-scores',
                           '--no-progress', '--device', 'cpu'])
    captured = capsys.readouterr()
    assert code == 3, captured.err  # the broken link is listed
    assert sorted(os.listdir(show_dir)) == ['photo.npy', 'photo.png']
    assert np.load(show_dir / 'photo.npy').shape == (64, 96)
    assert f"{photos / 'zz_moved.jpg'}: broken symbolic link" in captured.err
    assert '1 heat maps written' in captured.out


def test_export_takes_each_photo_once_as_stored(toy, photos, tmp_path,
                                                capsys):
    out = tmp_path / 'submission'
    code = export.main([toy['config'], toy['checkpoint'], '--submission',
                        str(out), '--method', 'm', '--dataset-name',
                        'AnomalyTrack-all', '--images', str(photos),
                        '--no-progress', '--device', 'cpu'])
    captured = capsys.readouterr()
    assert code == 3, captured.err
    frame = osp.join(out, 'anomaly_p', 'm', 'AnomalyTrack-all', 'photo.hdf5')
    assert read_smiyc_frame(frame).shape == (64, 96)
    assert sorted(os.listdir(osp.dirname(frame))) == ['photo.hdf5',
                                                      'score_mapping.json']
    assert f"{photos / 'zz_moved.jpg'}: broken symbolic link" in captured.err
