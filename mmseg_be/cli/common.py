"""Flag groups, exit codes and config handling shared by the tools.

One vocabulary across the tools (``docs/tools.md``):

- ``--out DIR``: tools/test.py only, MMSeg's meaning (the evaluator keeps
  its results there);
- ``--submission DIR`` and ``--submission-format smiyc|fishyscapes``: a
  benchmark submission (test, export);
- ``--show-dir DIR``: heat-map pictures (test, visualize);
- ``--vmin`` / ``--vmax``: a fixed colour range of the heat maps;
- ``--prior-file PATH``: the prior JSON (estimate_prior);
- ``--score`` / ``--score-options``, ``--partial-load``, ``--device``,
  ``--cfg-options``.

Older spellings are accepted for one release with a deprecation warning
(:class:`DeprecatedAlias`).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence

import torch
from mmengine.config import Config, DictAction

from mmseg_be.export.mapping import MAPPINGS, ScoreMapping
from mmseg_be.utils import config_path


EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXIT_UNREADABLE, EXIT_WRITE_FAILED, EXIT_NON_FINITE = 3, 4, 5
EXIT_RELEASE_MISMATCH = 6
EXIT_CODES = f'''exit status (the same for every tool of mmseg_be):
  {EXIT_OK}  done
  {EXIT_ERROR}  an unexpected error (Python traceback)
  {EXIT_USAGE}  bad arguments or settings: a missing config, checkpoint or
     input; a setting that could not take effect (a component's own
     anomaly score that the run's anomaly_score would override, a
     checkpoint whose weights do not fit the model); an output folder
     that holds another export, or that a running export is writing
     (its process is named). The message names the fix.
  {EXIT_UNREADABLE}  some input images are unreadable (missing, truncated,
     corrupt): they were skipped and listed; the rest was processed
  {EXIT_WRITE_FAILED}  the output could not be written (e.g. no space left on
     device): what was written is complete; fix the cause and run the
     same command again to resume
  {EXIT_NON_FINITE}  a frame's anomaly scores are NaN or infinite (the frame and
     the count are named): the tool stops there
  {EXIT_RELEASE_MISMATCH}  check_datasets --strict: a dataset folder matches no known
     official release (the differences are printed)
'''


class DeprecatedAlias(argparse.Action):
    """Store a value; warn when an old spelling of the flag was used.

    ``deprecated`` lists the old option strings; the warning names
    ``replacement`` (default: the argument's first option string).
    """

    def __init__(self, option_strings: Sequence[str], dest: str,
                 deprecated: Sequence[str] = (), replacement: str = '',
                 **kwargs: Any) -> None:
        self.deprecated = tuple(deprecated)
        self.replacement = replacement or option_strings[0]
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string in self.deprecated:
            print(f'warning: {option_string} is deprecated and will be '
                  f'removed in the next release; use {self.replacement}',
                  file=sys.stderr)
        setattr(namespace, self.dest, values)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code``."""
    print(f'error: {message}', file=sys.stderr)
    raise SystemExit(code)


def exit_status_of(error: BaseException) -> Optional[int]:
    """The exit status of an expected error (None: unexpected)."""
    from mmseg_be.export import ExportFolderError, FolderBusyError
    from mmseg_be.scoring import NonFiniteScoreError
    from mmseg_be.utils.errors import SettingsError
    if isinstance(error, NonFiniteScoreError):
        return EXIT_NON_FINITE
    if isinstance(error, (SettingsError, FileNotFoundError,
                          ExportFolderError, FolderBusyError)):
        return EXIT_USAGE
    return None


def run_tool(body: Callable[[], Optional[int]]) -> int:
    """Run a tool's body; expected errors become ``error: ...`` on stderr
    and their exit status (raised as ``SystemExit``), others propagate with
    their traceback."""
    try:
        return body() or EXIT_OK
    except Exception as error:  # noqa: BLE001 (re-raised unless expected)
        code = exit_status_of(error)
        if code is None:
            raise
        fail(str(error), code)


def add_partial_load_arg(parser: argparse.ArgumentParser) -> None:
    """``--partial-load``: parts of the model a checkpoint may not fill."""
    parser.add_argument(
        '--partial-load', nargs='+', default=[], metavar='MODULE',
        help='model parts whose weights may be missing from the checkpoint, '
        'left over in it or of another size; they stay as initialised '
        '(e.g. decode_head auxiliary_head for a backbone-only checkpoint). '
        'Without it, any such weight is an error.')


def check_checkpoint(model, checkpoint: str, partial_load: Sequence[str],
                     config: str, loaded: Optional[dict] = None) -> None:
    """The tools' strict load: stop unless ``checkpoint`` fits ``model``
    (apart from ``partial_load``); log what the named parts leave out.
    ``loaded``: the file already read by
    :func:`~mmseg_be.engine.checkpoint_fit.read_checkpoint` (else it is
    read here)."""
    from mmengine.logging import print_log

    from mmseg_be.engine.checkpoint_fit import (check_checkpoint_fits,
                                                describe_mismatch)
    fit = check_checkpoint_fits(model, checkpoint if loaded is None else
                                loaded, partial_load, config,
                                checkpoint_name=checkpoint)
    if not fit.exact:
        print_log('Checkpoint loaded partially, as --partial-load '
                  f'{" ".join(partial_load)} allows:\n  '
                  + describe_mismatch(fit), logger='current')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Flags that tools/train.py and tools/test.py share with MMSeg's tools."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config: key=value pairs merged into '
        'it, e.g. train_cfg.max_iters=100 or key="[a,b]"; no spaces.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (tools/dist_train.sh and dist_test.sh pass '
        '"pytorch")')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)


def load_config(args: argparse.Namespace) -> Config:
    """Load the config with MMSeg's precedence rules for the work dir.

    A config may be a file path or a path relative to the project's
    ``configs/`` folder (so an installed package finds its own configs).
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = Config.fromfile(config_path(args.config))
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.launcher != 'none' and not torch.cuda.is_available():
        prepare_cpu_distributed(cfg)
    return cfg


def prepare_cpu_distributed(cfg: Config) -> None:
    """Let mmengine's distributed Runner work on CPU-only machines.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` (which does not
    exist on a CPU build) and wraps the model with ``device_ids=[LOCAL_RANK]``
    (which DDP rejects for CPU modules). So the gloo process group is
    initialised here from the launcher's environment (``Runner`` then skips
    its own ``init_dist``), and DDP gets no ``device_ids``. ``SyncBN``
    layers, which torch runs on CUDA only, become ``BN`` (batch statistics
    per process), as mmengine reverts them in a run of one process; a
    warning names the change.
    """
    import logging

    import torch.distributed as dist
    from mmengine.logging import print_log

    from mmseg_be.utils.config_nodes import config_dicts
    sync_bn = [node for _, node in config_dicts(cfg.model)
               if node.get('type') == 'SyncBN']
    for node in sync_bn:
        node['type'] = 'BN'
    if sync_bn:
        print_log('SyncBN needs CUDA: the model\'s SyncBN layers are BN in '
                  'this CPU run (batch statistics per process).',
                  logger='current', level=logging.WARNING)
    cfg.setdefault('env_cfg', {})
    cfg.env_cfg.setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    # An explicit None keeps the Runner's default [LOCAL_RANK] out.
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    if cfg.launcher == 'pytorch' and not dist.is_initialized():
        dist.init_process_group(backend='gloo')


def add_score_args(parser: argparse.ArgumentParser) -> None:
    """``--score`` / ``--score-options``: override the config's score.

    Shared by every tool that turns logits into anomaly scores, so one flag
    changes the evaluated, drawn and exported score together.
    """
    from mmseg_be.scoring import SCORE_FUNCTIONS
    parser.add_argument(
        '--score', choices=sorted(SCORE_FUNCTIONS),
        help="anomaly score; overrides the config's anomaly_score.name "
        '(default: the config\'s, else energy)')
    parser.add_argument(
        '--score-options', nargs='+', action=DictAction,
        help="override other keys of the config's anomaly_score, e.g. "
        'smooth_kernel=None temperature=2 smooth_sigma=1.5 num_classes=19')


def score_overrides(args: argparse.Namespace) -> Dict[str, Any]:
    """The anomaly-score keys the command line sets."""
    overrides = dict(getattr(args, 'score_options', None) or {})
    if getattr(args, 'score', None) is not None:
        overrides['name'] = args.score
    return overrides


def resolve_anomaly_score(cfg: Config,
                          args: argparse.Namespace) -> Dict[str, Any]:
    """Set ``cfg.anomaly_score`` to the run's one setting and return it.

    Config setting (or, for older configs, the evaluator's) overridden by
    ``--score`` / ``--score-options``; an ``AnomalyScoreHook`` is added to
    ``custom_hooks`` if the config has none, so the metric, the visualizer
    and the export hook all use it.

    Raises:
        AnomalyScoreConflictError: A metric, visualizer or hook of the
            config names a score of its own that differs (it would be
            overridden).
    """
    from mmseg_be.engine import adopt_anomaly_score
    settings = adopt_anomaly_score(cfg, score_overrides(args))
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == 'AnomalyScoreHook' for h in hooks):
        hooks.append(dict(type='AnomalyScoreHook'))
    cfg.custom_hooks = hooks
    return settings


def add_mapping_args(parser: argparse.ArgumentParser) -> None:
    """The SMIYC score-mapping flags (tools/export.py and tools/test.py)."""
    parser.add_argument('--mapping', choices=MAPPINGS,
                        help='SMIYC map into [0, 1]; default: minmax '
                        'calibrated on the first --calib-frames frames')
    parser.add_argument('--low', type=float, help='minmax: score -> 0')
    parser.add_argument('--high', type=float, help='minmax: score -> 1')
    parser.add_argument('--center', type=float, help='sigmoid: score -> 0.5')
    parser.add_argument('--scale', type=float, help='sigmoid: scale')
    parser.add_argument('--calib-frames', type=int, default=8,
                        help='frames that calibrate the default mapping')


def mapping_from_args(args: argparse.Namespace) -> Optional[ScoreMapping]:
    """The SMIYC mapping named on the command line, or None to calibrate."""
    if args.mapping is None:
        if any(v is not None
               for v in (args.low, args.high, args.center, args.scale)):
            raise ValueError('--low/--high/--center/--scale need --mapping.')
        return None
    if args.mapping == 'minmax' and args.low is None and args.high is None:
        return None  # calibrated
    return ScoreMapping(args.mapping, low=args.low, high=args.high,
                        center=args.center, scale=args.scale)


def add_inference_args(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--cfg-options``, ``--partial-load`` and
    ``--no-progress`` of the tools that run a checkpoint on image files
    (export, visualize)."""
    add_partial_load_arg(parser)
    parser.add_argument('--device', default=None,
                        help='torch device (default: cuda:0 if available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, key=value')
    parser.add_argument('--no-progress', action='store_true')
