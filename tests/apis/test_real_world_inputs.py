"""The inference API on the files real photo folders hold: EXIF-rotated
JPEGs, an empty file in a batch, symbolic links (loops, second paths to a
file, broken links), and the test pipeline handled by exact type names.

Oracles: OpenCV's ``IMREAD_UNCHANGED`` decode (stored orientation, what the
label PNGs are read as), hand-placed bright blocks, and predictions of the
same pixels given as an array.
"""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image

import mmseg_be  # noqa: F401  (registers the package)
from mmseg_be.apis import AnomalyInferencer, collect_images
from mmseg_be.apis.inferencer import find_images
from mmseg_be.utils.image_io import UnreadableImageError
from tests.helpers import write_toy_ood_checkpoint

EXIF_ROTATE_90_CW = 6  # "the stored rows are the displayed right column"


def exif_jpeg(path: str, rgb: np.ndarray, orientation: int) -> None:
    """Write a JPEG of ``rgb`` (stored as given) with an orientation tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, 'JPEG', quality=95, exif=exif.tobytes())


def stored_scene(height: int, width: int) -> np.ndarray:
    """A grey RGB scene with a bright block in the stored top-left corner."""
    rgb = np.full((height, width, 3), 60, np.uint8)
    rgb[:height // 4, :width // 4] = 250
    return rgb


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return write_toy_ood_checkpoint(str(tmp_path_factory.mktemp('toy')))


@pytest.fixture(scope='module')
def inferencer(toy):
    return AnomalyInferencer(toy['config'], toy['checkpoint'], 'cpu')


@pytest.mark.parametrize('height,width', [(64, 96), (64, 64)])
def test_exif_rotated_jpeg_is_read_as_stored_like_its_label(
        tmp_path, height, width):
    """The configs' loader and the label loader agree on every pixel."""
    image = str(tmp_path / 'photo.jpg')
    exif_jpeg(image, stored_scene(height, width), EXIF_ROTATE_90_CW)
    # The label marks the bright block where it is stored.
    label = np.zeros((height, width), np.uint8)
    label[:height // 4, :width // 4] = 1
    label_path = str(tmp_path / 'photo_label.png')
    cv2.imwrite(label_path, label)
    # OpenCV's default colour read turns the photo (the bug's cause).
    assert cv2.imread(image).shape[:2] == (width, height)

    load = TRANSFORMS.build(dict(type='LoadImageStoredOrientation'))
    load_label = TRANSFORMS.build(dict(type='LoadOODAnnotations'))
    results = load_label(load(dict(img_path=image, seg_map_path=label_path,
                                   seg_fields=[])))
    stored = cv2.imread(image, cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(results['img'], stored)
    assert results['img_shape'] == results['ori_shape'] == (height, width)
    assert results['gt_seg_map'].shape == (height, width)
    bright = results['img'].mean(axis=2) > 200
    np.testing.assert_array_equal(bright, results['gt_seg_map'] == 1)


@pytest.mark.parametrize('height,width', [(64, 96), (64, 64)])
def test_exif_rotated_jpeg_scores_line_up_with_stored_pixels(
        inferencer, tmp_path, height, width):
    image = str(tmp_path / f'photo_{height}x{width}.jpg')
    exif_jpeg(image, stored_scene(height, width), EXIF_ROTATE_90_CW)
    by_file, = inferencer(image, progress=False)['predictions']
    assert by_file.scores.shape == (height, width)
    # The same stored pixels given as an array (no file, no EXIF): the
    # square case has no shape to betray a rotation, the values do.
    by_array, = inferencer(cv2.imread(image, cv2.IMREAD_UNCHANGED),
                           progress=False)['predictions']
    np.testing.assert_allclose(by_file.scores, by_array.scores, rtol=1e-5,
                               atol=1e-5)
    # And the heat map's input panel is the stored image.
    out = inferencer(image, return_vis=True, progress=False,
                     titles=False)['visualization'][0]
    assert out.shape[0] == height


def test_zero_byte_image_is_named(inferencer, toy, tmp_path):
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(UnreadableImageError) as info:
        inferencer(str(empty), progress=False)
    assert str(empty) in str(info.value) and 'empty file' in str(info.value)


def test_a_bad_image_in_a_batch_is_skipped_and_listed(inferencer, toy,
                                                      tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    names = sorted(os.listdir(toy['images']))
    for name in names:
        (folder / name).write_bytes(open(osp.join(toy['images'], name),
                                         'rb').read())
    (folder / '0001a.png').write_bytes(b'')  # sorted second among five
    good = [n for n in names]
    truncated = folder / names[-1]
    data = truncated.read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    out_dir = tmp_path / 'vis'
    out = inferencer(str(folder), batch_size=2, out_dir=str(out_dir),
                     on_error='skip', progress=False)
    skipped = dict(out['skipped'])
    assert set(skipped) == {str(folder / '0001a.png'), str(truncated)}
    assert skipped[str(folder / '0001a.png')] == 'empty file'
    assert 'truncated' in skipped[str(truncated)]
    done = [osp.basename(p.img_path) for p in out['predictions']]
    assert done == good[:-1]
    assert sorted(os.listdir(out_dir)) == [n[:-4] + '.png' for n in done]
    # Each prediction is the one of the image alone.
    alone, = inferencer(str(folder / done[1]), progress=False)['predictions']
    np.testing.assert_allclose(out['predictions'][1].scores, alone.scores,
                               rtol=1e-5, atol=1e-5)
    # Without the option the first unreadable file ends the call, named.
    with pytest.raises(UnreadableImageError, match='0001a.png: empty file'):
        inferencer(str(folder), progress=False)
    with pytest.raises(ValueError, match='on_error'):
        inferencer(str(folder), on_error='ignore')


def test_folder_walk_takes_each_real_file_once(tmp_path):
    root = tmp_path / 'photos'
    (root / 'sub').mkdir(parents=True)
    png = cv2.imencode('.png', np.zeros((4, 4, 3), np.uint8))[1].tobytes()
    (root / 'a.png').write_bytes(png)
    (root / 'sub' / 'b.png').write_bytes(png)
    os.symlink('.', root / 'loop')                    # a link loop
    os.symlink('sub', root / 'sub_again')             # a second path
    os.symlink('a.png', root / 'z_alias.png')         # a file alias
    os.symlink('gone.png', root / 'broken.png')       # a broken link
    found = find_images(str(root))
    assert found.paths == sorted([str(root / 'a.png'),
                                  str(root / 'sub' / 'b.png'),
                                  str(root / 'broken.png')])
    assert found.broken == [str(root / 'broken.png')]
    assert found.duplicates == [(str(root / 'z_alias.png'),
                                 str(root / 'a.png'))]
    assert sorted(f for f, _ in found.repeated_folders) == [
        str(root / 'loop'), str(root / 'sub_again')]
    assert collect_images(str(root)) == found.paths
    # A glob reaching one file twice (through the link) takes it once.
    assert find_images(str(root / '*.png')).paths == [
        str(root / 'a.png'), str(root / 'broken.png')]


def test_broken_link_is_listed_with_its_target(inferencer, toy, tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    first = sorted(os.listdir(toy['images']))[0]
    os.symlink(osp.join(toy['images'], first), folder / first)
    os.symlink(str(tmp_path / 'moved.png'), folder / 'z.png')
    out = inferencer(str(folder), on_error='skip', progress=False)
    assert [osp.basename(p.img_path) for p in out['predictions']] == [first]
    (path, reason), = out['skipped']
    assert path == str(folder / 'z.png')
    assert 'broken symbolic link' in reason and 'moved.png' in reason


@TRANSFORMS.register_module(force=True)
class BlankImageNotAnAnnotation(BaseTransform):
    """A test transform whose name holds "Annotation": it blanks the image."""

    def transform(self, results: dict) -> dict:
        results['img'] = np.zeros_like(results['img'])
        return results


def test_pipeline_steps_are_found_by_exact_type(toy):
    from mmengine.config import Config
    cfg = Config.fromfile(toy['config'])
    cfg.test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='BlankImageNotAnAnnotation'),
        dict(type='LoadOODAnnotations'),
        dict(type='PackSegInputs'),
    ]
    cfg.test_dataloader.dataset.pipeline = cfg.test_pipeline
    blanking = AnomalyInferencer(cfg, toy['checkpoint'], 'cpu')
    assert [t['type'] for t in blanking.cfg.test_pipeline] == [
        'LoadImageFromFile', 'BlankImageNotAnAnnotation', 'PackSegInputs']
    image = osp.join(toy['images'], sorted(os.listdir(toy['images']))[0])
    blank = np.zeros_like(cv2.imread(image))
    by_file, = blanking(image, progress=False)['predictions']
    by_blank, = blanking(blank, progress=False)['predictions']
    np.testing.assert_allclose(by_file.scores, by_blank.scores, rtol=1e-5,
                               atol=1e-5)
    # A pipeline without an image loader is refused before the model.
    cfg.test_pipeline = [dict(type='PackSegInputs')]
    with pytest.raises(ValueError, match='LoadImageFromFile'):
        AnomalyInferencer(cfg, toy['checkpoint'], 'cpu')
