"""Whether a checkpoint's weights fit a model: the strict load of the tools.

mmengine loads checkpoints with ``strict=False``: a weight the checkpoint
lacks, one the model lacks, or one of another size is only logged, and the
run goes on with those weights as initialised (a random classifier, say),
printing numbers. The tools of mmseg_be check the fit first and stop,
unless the parts that may stay as initialised are named (``partial_load``),
e.g. ``['decode_head', 'auxiliary_head']`` for a checkpoint that holds only
a pretrained backbone, or ``['decode_head.conv_seg']`` for a classifier of
another number of classes.

Before that, :func:`read_checkpoint` reads the file with errors that name it
and say what is wrong (missing, empty, truncated, another format, no
weights inside): every tool and the inference API read checkpoints through
it before any other work.
"""
import os
import os.path as osp
import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import (Iterable, List, Mapping, Optional, Sequence, Tuple,
                    Union)

import torch

from mmseg_be.utils.errors import SettingsError

Shape = Tuple[int, ...]


class CheckpointMismatchError(SettingsError):
    """A checkpoint's weights do not fit the model (names the keys and fix)."""


class CheckpointReadError(SettingsError):
    """A checkpoint file cannot be read: the message names the file and what
    is wrong (empty, truncated, another format, no weights)."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def checkpoint_file_problem(path: str) -> Optional[str]:
    """What is wrong with a local checkpoint file that shows without
    unpickling it (cheap: the size, the first bytes and, for the zip format
    of ``torch.save``, the archive's directory), or None.

    Args:
        path: The file.

    Returns:
        str or None: e.g. ``'empty file'``; None when nothing is seen.
    """
    if not osp.lexists(path):
        return 'no such file'
    if not osp.exists(path):
        return (f'broken symbolic link (its target {os.readlink(path)!r} '
                'does not exist)')
    if osp.isdir(path):
        return 'a folder, not a checkpoint file'
    size = osp.getsize(path)
    if size == 0:
        return 'empty file'
    with open(path, 'rb') as f:
        head = f.read(4)
    # torch.save writes a zip archive (PK) or, before PyTorch 1.6, a pickle
    # (protocol 2+ starts with 0x80).
    if head.startswith(b'PK'):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            # The directory of a zip archive is at its end: a copy or a
            # download cut short has none.
            return ('not a readable PyTorch checkpoint: truncated or corrupt '
                    f'({size} bytes, the zip archive torch.save writes has '
                    f'no intact directory: {_first_line(error)}); copy or '
                    'download it again')
        if not any(n.endswith('data.pkl') for n in names):
            return ('not a readable PyTorch checkpoint: a zip archive '
                    'without the data.pkl of torch.save (another format)')
        return None
    if not head.startswith(b'\x80'):
        return ('not a readable PyTorch checkpoint (neither the zip format '
                'of torch.save nor its older pickle format)')
    return None


def read_checkpoint(path: str) -> dict:
    """Load a checkpoint file (or URL) as mmengine does, with errors that
    name it and say what is wrong.

    Args:
        path: A checkpoint file or a URL mmengine downloads.

    Returns:
        dict: The checkpoint (``state_dict``, ``meta``, ...).

    Raises:
        FileNotFoundError: There is no such file.
        CheckpointReadError: The file is empty, truncated, corrupt, of
            another format, or holds no weights.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    if '://' not in path:
        problem = checkpoint_file_problem(path)
        if problem == 'no such file':
            raise FileNotFoundError(f'Checkpoint {path!r} does not exist.')
        if problem is not None:
            raise CheckpointReadError(f'{path}: {problem}')
    try:
        checkpoint = _load_checkpoint(path, map_location='cpu')
    except pickle.UnpicklingError as error:
        raise CheckpointReadError(
            f'{path}: the safe loader of torch.load refuses an object stored '
            f'in the file ({_first_line(error)}): not a checkpoint of MMSeg '
            '(a released checkpoint of another code base? '
            'tools/convert_checkpoint.py converts the released ones)') \
            from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError,
            zipfile.BadZipFile) as error:
        raise CheckpointReadError(
            f'{path}: not a readable PyTorch checkpoint (truncated, corrupt '
            f'or another format): {_first_line(error)}') from None
    if not isinstance(checkpoint, Mapping):
        raise CheckpointReadError(
            f'{path}: holds a {type(checkpoint).__name__}, not a checkpoint '
            '(a dict of weights, or a dict with a state_dict of weights)')
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, Mapping) or not any(
            torch.is_tensor(v) for v in state.values()):
        keys = ', '.join(map(str, list(checkpoint)[:5]))
        raise CheckpointReadError(
            f'{path}: holds no weights (its keys: {keys}): not a model '
            'checkpoint')
    return checkpoint


@dataclass
class CheckpointFit:
    """How a checkpoint's weights meet a model's.

    Attributes:
        missing: Model weights the checkpoint lacks.
        unexpected: Checkpoint weights the model lacks.
        mis_sized: ``(key, checkpoint shape, model shape)`` of weights of
            another size.
    """
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mis_sized: List[Tuple[str, Shape, Shape]] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """Every weight of the model comes from the checkpoint, nothing is
        left over."""
        return not (self.missing or self.unexpected or self.mis_sized)

    def outside(self, prefixes: Sequence[str]) -> 'CheckpointFit':
        """The mismatches not under any of ``prefixes``."""
        return CheckpointFit(
            [k for k in self.missing if not under(k, prefixes)],
            [k for k in self.unexpected if not under(k, prefixes)],
            [m for m in self.mis_sized if not under(m[0], prefixes)])


def under(key: str, prefixes: Iterable[str]) -> bool:
    """Whether ``key`` is one of ``prefixes`` or inside one (``a.b`` is
    inside ``a``, ``ab`` is not)."""
    return any(key == p or key.startswith(p + '.') for p in prefixes)


def _strip_module(key: str) -> str:
    # mmengine's default revise_keys: weights saved from a DDP wrapper.
    return key[len('module.'):] if key.startswith('module.') else key


def checkpoint_state_dict(checkpoint: Union[str, Mapping]
                          ) -> 'OrderedDict[str, torch.Tensor]':
    """The weights of a checkpoint file, URL or loaded checkpoint, with the
    ``module.`` prefix of a wrapped model removed (as mmengine loads them).
    """
    if isinstance(checkpoint, str):
        checkpoint = read_checkpoint(checkpoint)
    state = checkpoint.get('state_dict', checkpoint)
    return OrderedDict((_strip_module(k), v) for k, v in state.items())


def _unwrapped(model: torch.nn.Module) -> torch.nn.Module:
    """The model mmengine loads weights into (DDP and TTA wrappers off)."""
    from mmengine.model import BaseTTAModel, is_model_wrapper
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def compare_weights(model_state: Mapping[str, torch.Tensor],
                    checkpoint_state: Mapping[str, torch.Tensor]
                    ) -> CheckpointFit:
    """Compare two state dicts key by key and shape by shape.

    BatchNorm's ``num_batches_tracked`` counters are not weights and are
    skipped, as mmengine skips them.
    """
    def weights(state):
        return {k: v for k, v in state.items()
                if not k.endswith('num_batches_tracked')}

    model_state, checkpoint_state = (weights(model_state),
                                     weights(checkpoint_state))
    fit = CheckpointFit()
    for key, value in model_state.items():
        if key not in checkpoint_state:
            fit.missing.append(key)
        elif tuple(checkpoint_state[key].shape) != tuple(value.shape):
            fit.mis_sized.append((key, tuple(checkpoint_state[key].shape),
                                  tuple(value.shape)))
    fit.unexpected = [k for k in checkpoint_state if k not in model_state]
    return fit


def _modules_to_name(fit: CheckpointFit,
                     model_keys: Sequence[str]) -> List[str]:
    """The smallest list of parts a ``partial_load`` would need: a whole
    top-level module when all of it is missing, else the modules that hold
    the mismatched weights."""
    missing = set(fit.missing)
    names = []
    for key in fit.missing:
        top = key.split('.')[0]
        whole = all(k in missing for k in model_keys if under(k, [top]))
        names.append(top if whole else key.rsplit('.', 1)[0])
    names += [key.rsplit('.', 1)[0] for key, _, _ in fit.mis_sized]
    names += [key.split('.')[0] for key in fit.unexpected]
    unique = sorted(set(names))
    return [n for n in unique if not under(n, [m for m in unique if m != n])]


def _list(keys: Sequence[str], limit: int = 4) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > limit else '')


def describe_mismatch(fit: CheckpointFit) -> str:
    """The mismatches of ``fit`` in a few lines."""
    lines = []
    if fit.mis_sized:
        sizes = [f'{k} (checkpoint {tuple(c)}, model {tuple(m)})'
                 for k, c, m in fit.mis_sized]
        lines.append(f'{len(fit.mis_sized)} weights of another size: '
                     + _list(sizes, 3))
    if fit.missing:
        lines.append(f'{len(fit.missing)} model weights missing from the '
                     'checkpoint: ' + _list(fit.missing))
    if fit.unexpected:
        lines.append(f'{len(fit.unexpected)} checkpoint weights the model '
                     'does not have: ' + _list(fit.unexpected))
    return '\n  '.join(lines)


def check_checkpoint_fits(model: torch.nn.Module,
                          checkpoint: Union[str, Mapping],
                          partial_load: Sequence[str] = (),
                          config: str = '',
                          checkpoint_name: str = '') -> CheckpointFit:
    """Stop unless the checkpoint fits the model, apart from named parts.

    Args:
        model: The built model (wrappers are looked through).
        checkpoint: A checkpoint file, URL or loaded checkpoint dict.
        partial_load: Module names (``backbone``, ``decode_head.conv_seg``)
            whose weights may be missing from the checkpoint, left over in
            it, or of another size: they stay as initialised.
        config: The config file, named in the error.
        checkpoint_name: The file of a loaded ``checkpoint``, named in the
            error.

    Returns:
        The whole comparison (the named parts' mismatches included).

    Raises:
        CheckpointMismatchError: A mismatch outside ``partial_load``, or a
            ``partial_load`` name that matches no weight (a typo would
            otherwise accept nothing and look like it worked).
    """
    if isinstance(checkpoint, str):
        name, loaded = checkpoint, read_checkpoint(checkpoint)
    else:
        name, loaded = checkpoint_name or 'the checkpoint', checkpoint
    model_state = _unwrapped(model).state_dict()
    checkpoint_state = checkpoint_state_dict(loaded)
    fit = compare_weights(model_state, checkpoint_state)
    partial = list(partial_load or ())
    unknown = [p for p in partial
               if not any(under(k, [p]) for k in
                          list(model_state) + list(checkpoint_state))]
    if unknown:
        tops = sorted({k.split('.')[0] for k in model_state})
        raise CheckpointMismatchError(
            f'partial_load names {unknown}, which match no weight of the '
            f'model or of {name}; the model\'s parts are {tops} (a name is '
            'a module path such as backbone or decode_head.conv_seg).')
    problems = fit.outside(partial)
    if problems.exact:
        return fit
    where = f' of {osp.basename(config)}' if config else ''
    parts = _modules_to_name(problems, [
        k for k in model_state if not k.endswith('num_batches_tracked')])
    meta = loaded.get('meta') if isinstance(loaded, Mapping) else None
    run = (meta or {}).get('experiment_name') if isinstance(
        meta, Mapping) else None
    origin = f' (written by the run {run})' if run else ''
    raise CheckpointMismatchError(
        f'{name}{origin} does not fit the model{where}:\n  '
        f'{describe_mismatch(problems)}\n'
        'Loaded anyway, those weights would stay as initialised and the run '
        'would report numbers of a half-loaded model. Use the config the '
        'checkpoint was trained with (or its test configs); or, if only '
        'part of the model is meant to come from this checkpoint (e.g. a '
        'pretrained backbone), name the parts that may stay as '
        f'initialised: --partial-load {" ".join(parts)} (in a training '
        f'config: partial_load = {parts!r}).')

