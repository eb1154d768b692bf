"""Run the command blocks of a docs page on miniature data.

What the docs-as-tests modules share (``tests/test_getting_started.py``,
``tests/test_docs_commands.py``): the command lines of a page's ``bash``
blocks, a workspace that holds miniature copies of the datasets in their
official download layouts under ``data/`` beside ``configs/`` and
``tools/`` of this checkout, and a runner that executes each command as a
user would, after shrinking it: only image sizes, iteration counts and
process counts are overridden, by appending ``--cfg-options`` or flags to
the command, never by editing what the page says. Lines with shell syntax
run in bash; a plain ``python SCRIPT ARGS`` line runs in a forked child of
one Python that has imported torch, MMSeg and mmseg_be already (the same
script, ``sys.argv``, folder and exit status; the imports cost 6-15 s a
command on a 2-core CPU).
"""
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import mmseg
import numpy as np

from tests.helpers import REPO

H, W = 32, 64  # every miniature frame
ITERS = 2
ZOO_CONFIG = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs',
                      'deeplabv3plus',
                      'deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py')
# The fine-tuning configs shrunk to the miniature frames and schedule.
SIZES = [
    f'model.data_preprocessor.size=({H},{W})',
    f'train_dataloader.dataset.pipeline.3.scale=({W},{H})',
    f'train_dataloader.dataset.pipeline.4.crop_size=({H},{W})'
]
SCHEDULE = [
    f'train_cfg.max_iters={ITERS}', f'train_cfg.val_interval={ITERS}',
    f'param_scheduler.0.end={ITERS}',
    f'default_hooks.checkpoint.interval={ITERS}',
    'default_hooks.logger.interval=1'
]
PRIOR_SAMPLES = ['--num-samples', '2', '--batch-size', '1']
# COCO category ids of the two miniature objects (dog, bottle): classes
# Cityscapes does not have, so the bank keeps both.
COCO_OBJECTS = (18, 44)


# --- the pages -------------------------------------------------------------

def doc_blocks(path: str, language: str = 'bash') -> List[str]:
    """The text of the page's fenced blocks of ``language``, in order."""
    with open(path) as f:
        return re.findall(rf'```{language}\n(.*?)```', f.read(), re.S)


def block_commands(block: str) -> List[str]:
    """The command lines of a bash block (continuations joined, comments
    and comment lines dropped, spaces collapsed)."""
    lines = []
    for line in block.replace('\\\n', ' ').splitlines():
        line = re.sub(r'(^|\s+)#.*$', '', line).strip()
        if line:
            lines.append(' '.join(line.split()))
    return lines


def doc_commands(path: str) -> List[str]:
    """The command lines of the page's bash blocks, in order."""
    return [line for block in doc_blocks(path)
            for line in block_commands(block)]


def tool_of(command: str) -> Optional[str]:
    """The tool a command runs (``train.py``, ``dist_train.sh``, ...)."""
    found = re.search(r'tools/(\w+\.(?:py|sh))', command)
    return found.group(1) if found else None


def shrink(command: str, extra: Dict[str, List[str]],
           renames: Sequence[Tuple[str, str]] = ()) -> str:
    """The command with sizes and iteration counts overridden.

    Args:
        command: A command line of the page.
        extra: Per tool (``train.py``), the arguments appended to it;
            ``dist_train.sh`` gets those of ``train.py`` and runs one
            process instead of the page's count (one R-101 in memory).
        renames: ``(old, new)`` text replacements, for file names that
            carry an iteration count (``iter_8180`` -> ``iter_2``).
    """
    for old, new in renames:
        command = command.replace(old, new)
    tool = tool_of(command)
    if tool == 'dist_train.sh':
        command = re.sub(r'(tools/dist_train\.sh \S+) \d+', r'\1 1', command)
        tool = 'train.py'
    args = extra.get(tool, [])
    return command + (' ' + shlex.join(args) if args else '')


# --- the data --------------------------------------------------------------

def rng_image(seed: int, h: int = H, w: int = W) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3),
                                                dtype=np.uint8)


def write(path: str, array: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, array), path


def label(values, seed: int) -> np.ndarray:
    """A frame-sized label map: a block of the last value (the anomaly) on
    random other values, every value present."""
    rng = np.random.default_rng(seed)
    out = rng.choice(values[:-1], (H, W)).astype(np.uint8)
    out[8:20, 20:40] = values[-1]
    out.flat[:len(values)] = values
    return out


# Raw label values of each benchmark's miniature frames, anomaly last.
FISHYSCAPES_VALUES = [0, 255, 1]
ROAD_ANOMALY_VALUES = [0, 2]
SMIYC_VALUES = [0, 255, 1]
LOST_AND_FOUND_FRAMES = [
    ('04_Maurener_Weg_8', '04_Maurener_Weg_8_000000_000030', [0, 1, 2]),
    ('13_Elly_Beinhorn_Str', '13_Elly_Beinhorn_Str_000000_000050',
     [0, 1, 42]),
]
LOST_AND_FOUND_TRAIN_FRAMES = [
    ('01_Hanns_Klemm_Str_45', '01_Hanns_Klemm_Str_45_000000_000080',
     [0, 1, 5]),
]
SMIYC_FRAMES = ['validation_0', 'validation_1', 'test_0', 'test_1']


def write_datasets(data: str) -> Dict[str, List[np.ndarray]]:
    """Two frames of every dataset (and four of each SMIYC track, two of
    them unlabelled), in the release layouts.

    Returns:
        dict: Per benchmark, the raw label maps written, for the tests'
        own counts.
    """
    labels = {}
    for i, city in enumerate(['aachen', 'bochum']):
        stem = f'{city}_000000_0000{19 + i}'
        write(osp.join(data, 'cityscapes', 'leftImg8bit', 'train', city,
                       f'{stem}_leftImg8bit.png'), rng_image(i))
        gt = osp.join(data, 'cityscapes', 'gtFine', 'train', city, stem)
        write(gt + '_gtFine_labelTrainIds.png',
              label(list(range(19)) + [255], 100 + i))
    # COCO: two 480x640 images (the bank's minimum side) with one 16x12
    # object each.
    coco = osp.join(data, 'coco')
    images, annotations = [], []
    for i, cat in enumerate(COCO_OBJECTS):
        file_name = f'{i + 1:012d}.jpg'
        write(osp.join(coco, 'train2017', file_name),
              rng_image(200 + i, 480, 640))
        images.append(dict(id=i + 1, file_name=file_name, height=480,
                           width=640))
        x, y = 100 + 50 * i, 200
        annotations.append(dict(
            id=10 + i, image_id=i + 1, category_id=cat, iscrowd=0,
            segmentation=[[x, y, x + 16, y, x + 16, y + 12, x, y + 12]],
            area=192, bbox=[x, y, 16, 12]))
    os.makedirs(osp.join(coco, 'annotations'))
    with open(osp.join(coco, 'annotations', 'instances_train2017.json'),
              'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=[dict(id=18, name='dog'),
                                   dict(id=44, name='bottle')]), f)
    for split, seed in (('LostAndFound', 300), ('Static', 310)):
        root = osp.join(data, 'fishyscapes', split)
        labels[f'fishyscapes_{split}'] = []
        for i in range(2):
            write(osp.join(root, 'original', f'{i}.png'), rng_image(seed + i))
            labels[f'fishyscapes_{split}'].append(
                label(FISHYSCAPES_VALUES, seed + i))
            write(osp.join(root, 'labels', f'{i}.png'),
                  labels[f'fishyscapes_{split}'][-1])
    # The SegmentMeIfYouCan kit's copy of Fishyscapes Lost & Found.
    kit = osp.join(data, 'smiyc', 'dataset_FishyLAF')
    for i in range(2):
        write(osp.join(kit, 'images', f'{i}.png'), rng_image(300 + i))
        write(osp.join(kit, 'labels_masks', f'{i}_fishy-labels.png'),
              labels['fishyscapes_LostAndFound'][i])
    labels['road_anomaly'] = []
    for i, name in enumerate(['animals01_Guiyang_2', 'cones03_road_works']):
        frames = osp.join(data, 'RoadAnomaly_jpg', 'frames')
        write(osp.join(frames, name + '.jpg'), rng_image(320 + i))
        labels['road_anomaly'].append(label(ROAD_ANOMALY_VALUES, 320 + i))
        write(osp.join(frames, name + '.labels', 'labels_semantic.png'),
              labels['road_anomaly'][-1])
    for track, ext in (('AnomalyTrack', 'jpg'), ('ObstacleTrack', 'webp')):
        root = osp.join(data, 'smiyc', f'dataset_{track}')
        labels[f'smiyc_{track}'] = []
        for i, fid in enumerate(SMIYC_FRAMES):
            write(osp.join(root, 'images', f'{fid}.{ext}'), rng_image(330 + i))
            if fid.startswith('validation'):
                labels[f'smiyc_{track}'].append(label(SMIYC_VALUES, 330 + i))
                write(osp.join(root, 'labels_masks',
                               f'{fid}_labels_semantic.png'),
                      labels[f'smiyc_{track}'][-1])
    laf = osp.join(data, 'lost_and_found')
    for split, frames in (('test', LOST_AND_FOUND_FRAMES),
                          ('train', LOST_AND_FOUND_TRAIN_FRAMES)):
        key = 'lost_and_found' + ('' if split == 'test' else '_train')
        labels[key] = []
        for i, (seq, fid, values) in enumerate(frames):
            write(osp.join(laf, 'leftImg8bit', split, seq,
                           f'{fid}_leftImg8bit.png'), rng_image(340 + i))
            labels[key].append(label(values, 340 + i))
            write(osp.join(laf, 'gtCoarse', split, seq,
                           f'{fid}_gtCoarse_labelIds.png'), labels[key][-1])
    return labels


# --- the workspace and the runner ------------------------------------------

WRITE_ZOO_CHECKPOINT = """
import sys
import torch
import mmseg_be  # registers MMSeg's models (and the mmcv-lite stand-in)
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
init_default_scope('mmseg')
torch.manual_seed(0)
model = MODELS.build(Config.fromfile(sys.argv[1]).model)
torch.save({'state_dict': model.state_dict(), 'meta': {}}, sys.argv[2])
"""


def zoo_download(commands: Sequence[str]) -> str:
    """The page's download line of MMSeg's zoo checkpoint."""
    (download, ) = [c for c in commands
                    if c.startswith('mkdir -p checkpoints && wget')]
    return download


def write_zoo_checkpoint(root: str, commands: Sequence[str]) -> str:
    """The zoo config's model under the name the page downloads (built in a
    process of its own: the R-101 does not stay in the test's memory)."""
    name = osp.basename(zoo_download(commands).split()[-1])
    os.makedirs(osp.join(root, 'checkpoints'), exist_ok=True)
    path = osp.join(root, 'checkpoints', name)
    proc = subprocess.run(
        [sys.executable, '-c', WRITE_ZOO_CHECKPOINT, ZOO_CONFIG, path],
        capture_output=True, text=True, timeout=600, cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return path


def make_workspace(root: str) -> Dict[str, List[np.ndarray]]:
    """A user's checkout as the pages see it: ``configs/``, ``tools/``,
    ``demo/`` and ``.venv`` of this one, the miniature ``data/``, and
    ``python`` on the PATH (``bin/python``: this interpreter). Returns the
    label maps."""
    for name in ('configs', 'tools', 'demo'):
        os.symlink(osp.join(REPO, name), osp.join(root, name))
    os.symlink(osp.dirname(osp.dirname(sys.executable)),
               osp.join(root, '.venv'))
    os.makedirs(osp.join(root, 'bin'))
    with open(osp.join(root, 'bin', 'python'), 'w') as f:
        f.write(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    os.chmod(osp.join(root, 'bin', 'python'), 0o755)
    return write_datasets(osp.join(root, 'data'))


# A Python that has imported torch, MMSeg and mmseg_be once and forks a
# child per command: the child runs the tool's script as ``python SCRIPT
# ARGS`` would (``__main__``, ``sys.argv``, the working folder, its own
# stdout/stderr), without paying the 6-15 s of imports again.
FORKING_PYTHON = r"""
import json, os, runpy, sys, traceback
import mmseg_be  # first: its mmcv-lite stand-in
import torch, mmengine.runner, mmseg.models, mmseg.datasets  # noqa: F401
import mmseg_be.cli.check_datasets, mmseg_be.cli.estimate_prior  # noqa: F401
import mmseg_be.cli.export, mmseg_be.cli.prepare_coco_outliers  # noqa: F401
import mmseg_be.cli.test, mmseg_be.cli.train  # noqa: F401
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        fd = os.open(job['log'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.argv = job['argv']
        code = 0
        try:
            runpy.run_path(job['argv'][0], run_name='__main__')
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (
                0 if exit.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""
# Shell syntax beyond words and quotes: such a line runs in bash.
SHELL_SYNTAX = re.compile(r'[$`|&;<>()*?~]')


class ForkingPython:
    """Runs ``python tools/X.py ...`` lines in a child of one Python that
    has done the imports (see FORKING_PYTHON); everything else in bash."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.proc = subprocess.Popen(
            [sys.executable, '-c', FORKING_PYTHON], cwd=root,
            env=page_env(root),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, command: str) -> Optional[Tuple[int, str]]:
        """Exit status and output, or None when the line is not a plain
        ``python SCRIPT ARGS`` one."""
        if SHELL_SYNTAX.search(command):
            return None
        argv = shlex.split(command)
        if argv[0] not in ('python', '.venv/bin/python') or len(argv) < 2 \
                or not argv[1].endswith('.py'):
            return None
        log = osp.join(self.root, '.command.log')
        self.proc.stdin.write(json.dumps(dict(argv=argv[1:], log=log)) + '\n')
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        assert reply, 'the forking Python ended (its error is above)'
        code = int(reply)
        with open(log) as f:
            return code, f.read()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def page_env(root: str) -> Dict[str, str]:
    """The environment of the commands run in the workspace ``root``."""
    return dict(os.environ, OMP_NUM_THREADS='2', PYTHONPATH=REPO,
                PATH=osp.join(root, 'bin') + os.pathsep + os.environ['PATH'],
                # dist_train.sh's rendezvous: a port of this run's own
                PORT=str(20000 + os.getpid() % 20000))


def run_page(root: str, commands: Sequence[str], not_run: Sequence[str],
             shrunk: Callable[[str], str],
             exit_status: Optional[Dict[str, int]] = None,
             python: Optional[ForkingPython] = None
             ) -> List[Tuple[str, str]]:
    """Run the commands in ``root`` in order, each as bash would (a
    variable the page sets on a line of its own is seen by the lines after
    it).

    Args:
        commands: The page's command lines, in order.
        not_run: Prefixes of the lines not run (installs, downloads).
        shrunk: The miniature form of a command line.
        exit_status: Expected non-zero exit statuses, by a substring of the
            command (the page documents them); every other command must
            exit 0.
        python: Runs the plain ``python SCRIPT ARGS`` lines (the rest go to
            bash); None: every line in bash.

    Returns:
        list: ``(command, its stdout + stderr)`` of each command run.
    """
    exit_status = exit_status or {}
    outputs, assignments = [], ''
    for command in commands:
        if command.startswith(tuple(not_run)):
            continue
        expected = [code for part, code in exit_status.items()
                    if part in command] or [0]
        line = shrunk(command)
        result = python.run(line) if python and not assignments else None
        if result is None:
            proc = subprocess.run(['bash', '-c', assignments + line],
                                  cwd=root, env=page_env(root),
                                  capture_output=True, text=True, timeout=900)
            result = proc.returncode, proc.stdout + proc.stderr
        code, output = result
        assert code == expected[0], (
            f'{command}\nexit status {code}, expected {expected[0]}\n'
            f'{output[-6000:]}')
        if re.match(r'^[A-Za-z_]\w*=\S', command):
            # A variable set by the page: seen by the lines after it.
            assignments += command + '\n'
        outputs.append((command, output))
    return outputs
