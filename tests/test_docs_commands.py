"""docs/datasets.md, training.md, benchmarks.md and submission.md, run as
written on miniature data.

The ``bash`` blocks of the four pages are run in order, in one folder that
holds miniature copies of the datasets in their official download layouts
(``tests/docs_miniature.py``): build the bank, train the toy model of the
demo's data, estimate the prior, train the R-101 recipe with both selection
splits, test it on every benchmark, test the zoo baselines, check the
dataset folders, export both SMIYC tracks and the toy model's files.
Overridden: the training crops and schedules (appended ``--cfg-options``;
2 iterations everywhere), the number of prior samples, one process instead
of 4 for ``tools/dist_train.sh``, and the iteration in the checkpoint's
name. Not
run, each named in ``NOT_RUN`` with its reason: installs, the download
(MMSeg's zoo checkpoint is replaced by the zoo config's model under the
name the page uses) and what needs a package this project does not depend
on.

What the commands leave is checked against counts made here from the
miniature data, not against the tools' own output: bank entries per COCO
object, a prior over the 19 Cityscapes classes, checkpoints of both runs,
one evaluated image per labelled frame of each benchmark, the anomaly share
of the check tool against the label maps, one submission file per frame.
"""
import glob
import json
import os
import os.path as osp
import re

import cv2
import h5py
import mmseg
import numpy as np
import pytest
from mmengine.config import Config

from tests.docs_miniature import (COCO_OBJECTS, H, ITERS, PRIOR_SAMPLES,
                                  SCHEDULE, SIZES, SMIYC_FRAMES, W,
                                  ForkingPython, block_commands, doc_blocks,
                                  doc_commands, make_workspace, run_page,
                                  shrink, write_zoo_checkpoint)
from tests.helpers import REPO

# The worker of the released-network tests (make test runs two): the R-101
# runs of the docs modules (about 3.6 GB at their peak) never overlap those
# tests' large models, nor each other.
pytestmark = pytest.mark.xdist_group('wrn38')

PAGES = ('datasets', 'training', 'benchmarks', 'submission')
NOT_RUN = {
    'datasets': (
        'pip install cityscapesscripts',  # an install
        # MMSeg's converter needs that package, which this project does not
        # depend on; the miniature gtFine holds the *_labelTrainIds.png it
        # writes, and the script's path is checked below.
        'python $(python -c "import mmseg, os;',
    ),
    # make would (re)install the environment when the requirements change;
    # its recipe, tools/demo.py $(DEMO_ARGS), is run instead (checked below).
    'training': ('make demo DEMO_ARGS=--quick', ),
    'benchmarks': ('mkdir -p checkpoints && wget', ),  # the download
    'submission': (),
}
# Exit statuses the pages document for these commands.
EXIT_STATUS = {
    # the miniature folders match no official release
    'benchmarks': {'--strict': 6},
    # the toy split holds one broken image, 0004.png
    'submission': {'--images work_dirs/vis_demo/toy_ood/img_dir/val': 3},
}
R101_EXTRA = {
    'estimate_prior.py': PRIOR_SAMPLES + ['--cfg-options'] + SIZES,
    'train.py': ['--cfg-options'] + SIZES + SCHEDULE,
}
# The toy runs (the pages: 20 iterations, a checkpoint every 10 or 20):
# 2 iterations, a checkpoint after each; iter_20 becomes iter_2.
TOY_EXTRA = {'train.py': [
    '--cfg-options', f'train_cfg.max_iters={ITERS}',
    f'train_cfg.val_interval={ITERS}', f'param_scheduler.0.end={ITERS}',
    'default_hooks.checkpoint.interval=1']}
RENAMES = [('iter_8180', f'iter_{ITERS}'), ('iter_20.pth', f'iter_{ITERS}.pth')]
BENCHMARKS = {  # config name -> (name in the all-benchmarks run, labels)
    'fishyscapes-lost-and-found': ('fs_lost_and_found',
                                   'fishyscapes_LostAndFound'),
    'fishyscapes-static': ('fs_static', 'fishyscapes_Static'),
    'road-anomaly': ('road_anomaly', 'road_anomaly'),
    'smiyc-anomaly-track': ('smiyc_anomaly_track', 'smiyc_AnomalyTrack'),
    'smiyc-obstacle-track': ('smiyc_obstacle_track', 'smiyc_ObstacleTrack'),
    'lost-and-found': ('lost_and_found', 'lost_and_found'),
}
NO_KNOWN_FRAME = '04_Maurener_Weg_8_000000_000030'


def page(name: str) -> str:
    return osp.join(REPO, 'docs', f'{name}.md')


def visualization_setup(root: str, python: ForkingPython) -> None:
    """What submission.md's toy commands start from: the toy model and
    anomaly split of docs/visualization.md (its make_ood_split.py and
    training block), and the broken image submission.md describes."""
    (script, ) = [b for b in doc_blocks(page('visualization'), 'python')
                  if "write_toy_seg_dataset('work_dirs/vis_demo/toy'" in b]
    with open(osp.join(root, 'make_ood_split.py'), 'w') as f:
        f.write(script)
    (block, ) = [b for b in doc_blocks(page('visualization'))
                 if 'python make_ood_split.py' in b]
    run_page(root, block_commands(block), (),
             lambda c: shrink(c, TOY_EXTRA, RENAMES), python=python)
    with open(osp.join(root, 'work_dirs', 'vis_demo', 'toy_ood', 'img_dir',
                       'val', '0004.png'), 'wb') as f:
        f.write(b'not an image')


@pytest.fixture(scope='module')
def walked(tmp_path_factory):
    """Run the four pages in one folder; return it, the label maps and each
    page's outputs."""
    root = str(tmp_path_factory.mktemp('docs_commands'))
    labels = make_workspace(root)
    # A published NoKnown frame list stands in for the one a user brings.
    with open(osp.join(root, 'data', 'lost_and_found', 'no_known_test.txt'),
              'w') as f:
        f.write(NO_KNOWN_FRAME + '\n')
    write_zoo_checkpoint(root, doc_commands(page('benchmarks')))
    python = ForkingPython(root)
    # The recipe of `make demo DEMO_ARGS=--quick`.
    run_page(root, ['python tools/demo.py --quick'], (), str, python=python)
    outputs = {}
    for name in PAGES:
        if name == 'submission':
            visualization_setup(root, python)
        extra = TOY_EXTRA if name == 'training' else R101_EXTRA
        outputs[name] = run_page(
            root, doc_commands(page(name)), NOT_RUN[name],
            lambda c, extra=extra: shrink(c, extra, RENAMES),
            EXIT_STATUS.get(name), python)
    python.close()
    return root, labels, outputs


def output_of(outputs, part: str) -> str:
    (out, ) = [o for c, o in outputs if part in c]
    return out


def test_every_command_is_run_or_named():
    for name in PAGES:
        commands = doc_commands(page(name))
        for prefix in NOT_RUN[name]:
            assert len([c for c in commands if c.startswith(prefix)]) == 1
    # What the skipped lines stand for.
    with open(osp.join(REPO, 'Makefile')) as f:
        assert re.search(r'^demo:.*\n\t\$\(PY\) tools/demo\.py \$\(DEMO_ARGS\)',
                         f.read(), re.M)
    assert osp.isfile(osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                               'dataset_converters', 'cityscapes.py'))


def test_datasets_page_builds_the_bank(walked):
    root, _, _ = walked
    with open(osp.join(root, 'data', 'coco_outliers', 'index.jsonl')) as f:
        entries = [json.loads(line) for line in f]
    # One entry per COCO image, its one object cropped to the 16x12 box.
    assert sorted(e['category_ids'] for e in entries) == [
        [c] for c in COCO_OBJECTS]
    for entry in entries:
        rgba = cv2.imread(osp.join(root, 'data', 'coco_outliers',
                                   entry['file']), cv2.IMREAD_UNCHANGED)
        assert rgba.shape[2] == 4
        assert abs(rgba.shape[0] - 12) <= 1 and abs(rgba.shape[1] - 16) <= 1


def test_training_page_trains_resumes_and_tests_the_toy_model(walked):
    root, _, outputs = walked
    work = osp.join(root, 'work_dirs', 'toy')
    assert {'iter_1.pth', f'iter_{ITERS}.pth'} <= set(os.listdir(work))
    # One painted prediction per test image of the demo config.
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'demo', 'deeplabv3plus_r18-d16_synthetic-inlier.py'))
    # A Fishyscapes-layout split: the images in original/.
    images = os.listdir(osp.join(root, cfg.test_dataloader.dataset.data_root,
                                 'original'))
    # --show-dir show: the folder is relative to where the tool runs.
    shown = glob.glob(osp.join(root, 'show', '**', '*.png'), recursive=True)
    assert len(shown) == len(images) > 0
    resumed = output_of(outputs['training'], '--resume')
    assert 'resumed' in resumed.lower()


def test_benchmarks_page_trains_with_its_prior_and_both_splits(walked):
    root, _, outputs = walked
    work = osp.join(root, 'work_dirs')
    with open(osp.join(work, 'priors',
                       'deeplabv3plus_r101-d8_cityscapes-coco.json')) as f:
        prior = json.load(f)
    assert prior['class_names'] == list(
        mmseg.datasets.CityscapesDataset.METAINFO['classes'])
    assert abs(sum(prior['prior']) - 1) < 1e-6
    for run, split in (('balanced_energy_r101', 'LostAndFound'),
                       ('balanced_energy_r101_static', 'Static')):
        files = os.listdir(osp.join(work, run))
        assert {f'iter_{ITERS}.pth', f'best_AP_iter_{ITERS}.pth'} <= set(files)
        (config, ) = [p for p in files if p.endswith('.py')]
        cfg = Config.fromfile(osp.join(work, run, config))
        assert cfg.val_dataloader.dataset.data_root == \
            f'data/fishyscapes/{split}'
        # The prior the config names is the file estimated above.
        assert cfg.model.decode_head.loss_decode[1].prior == \
            'work_dirs/priors/deeplabv3plus_r101-d8_cityscapes-coco.json'


def test_benchmarks_page_tests_every_benchmark(walked):
    root, labels, outputs = walked
    for config, (name, key) in BENCHMARKS.items():
        out = output_of(outputs['benchmarks'], 'tools/test.py configs/'
                        f'benchmarks/deeplabv3plus_r101-d8_test-{config}.py')
        frames = len(labels[key])
        assert re.search(rf'\((test|Test)\) +\[{frames}/{frames}\]', out), \
            config
        found = re.search(r'\bAP: ([0-9.]+)', out)
        assert found and 0 <= float(found.group(1)) <= 100, config
    for config in ('tools/test.py configs/benchmarks/deeplabv3plus_r101-d8_'
                   'test-all-benchmarks.py', 'zoo-max-logit', 'zoo-energy'):
        out = output_of(outputs['benchmarks'], config)
        for name, key in BENCHMARKS.values():
            assert f'Testing {name} ({len(labels[key])} images)' in out
            found = re.search(rf'{name}/AP: ([0-9.]+)', out)
            assert found and 0 <= float(found.group(1)) <= 100, name


def anomaly_line(label_maps, anomaly, valid) -> str:
    """check_datasets' anomaly line, counted here from the raw labels."""
    pos = sum(int(anomaly(m).sum()) for m in label_maps)
    total = sum(int(valid(m).sum()) for m in label_maps)
    return f'{100 * pos / total:.2f}% of {total} valid pixels'


def test_benchmarks_page_checks_what_each_folder_holds(walked):
    _, labels, outputs = walked
    page_out = outputs['benchmarks']
    # The SMIYC kit's copy of Fishyscapes L&F: the same frames and labels.
    fishy = labels['fishyscapes_LostAndFound']
    out = output_of(page_out, 'dataset_FishyLAF')
    # The config's test set (its validation set is checked too, first).
    out = out[out.index('FishyscapesLostAndFoundDataset (data/smiyc/'
                        'dataset_FishyLAF)'):]
    assert re.search(r'frames:\s+2\n', out)
    assert anomaly_line(fishy, lambda m: m == 1, lambda m: m != 255) in out
    # NoKnown, both ways: the frame with raw id 42 is left out.
    (kept, ) = [m for m in labels['lost_and_found'] if 42 not in m]
    for part in ('exclude_label_ids=[42]', 'ann_file=no_known_test.txt'):
        out = output_of(page_out, part)
        assert re.search(r'frames:\s+1\n', out), part
        assert anomaly_line([kept], lambda m: (m >= 2) & (m <= 200),
                            lambda m: m != 0) in out, part
    out = output_of(page_out, 'split=train')
    assert re.search(r'frames:\s+1\n', out)
    # --strict: every benchmark folder is read, and none is a release.
    out = output_of(page_out, '--strict')
    assert len(re.findall(r'release:\s+NO MATCH', out)) == len(BENCHMARKS)


def test_submission_page_exports_every_frame(walked):
    root, _, outputs = walked
    for track in ('AnomalyTrack-all', 'ObstacleTrack-all'):
        folder = osp.join(root, 'submission', 'anomaly_p', 'balanced_energy',
                          track)
        assert sorted(os.listdir(folder)) == sorted(
            [f'{f}.hdf5' for f in SMIYC_FRAMES] + ['score_mapping.json'])
        with h5py.File(osp.join(folder, 'test_0.hdf5'), 'r') as f:
            value = f['value'][()]
        assert value.shape == (H, W) and value.dtype == np.float16
        assert 0 <= value.min() and value.max() <= 1
    vis = osp.join(root, 'work_dirs', 'vis_demo')
    images = sorted(p for p in os.listdir(osp.join(vis, 'toy_ood', 'img_dir',
                                                  'val')) if p != '0004.png')
    stems = [osp.splitext(p)[0] for p in images]
    smiyc = osp.join(vis, 'smiyc', 'anomaly_p', 'toy_energy',
                     'AnomalyTrack-all')
    assert sorted(p for p in os.listdir(smiyc) if p.endswith('.hdf5')) == [
        f'{s}.hdf5' for s in stems]
    with open(osp.join(vis, 'smiyc', 'mmseg_be_export.json')) as f:
        unreadable = json.load(f)['unreadable']
    assert [osp.basename(p) for p in unreadable] == ['0004.png']
    fishy = osp.join(vis, 'fishyscapes')
    assert sorted(p for p in os.listdir(fishy) if p.endswith('.npy')) == \
        sorted(f'{s}_{kind}.npy' for s in stems
               for kind in ('anomaly', 'segmentation'))
    assert np.load(osp.join(fishy, f'{stems[0]}_anomaly.npy')).shape == \
        (1024, 2048)
    out = output_of(outputs['submission'], '--submission-format fishyscapes')
    assert f'{len(stems)} frames exported, 0 already there (resumed), ' \
        '1 unreadable' in out
