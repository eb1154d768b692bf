"""Released ``DeepWV3Plus`` checkpoints into this project's MMSeg model.

Three released checkpoints hold the WideResNet38 DeepLabV3+ that the paper
fine-tunes:

* ``nvidia``: NVIDIA's Cityscapes model (semantic-segmentation, sdcnet
  branch; ``cityscapes_best.pth``), the start of the released fine-tuning.
  A ``{'state_dict': ...}`` file whose keys carry ``module.`` (the network
  was saved inside ``DataParallel``) and that also holds the class weights of
  its training loss (``module.criterion.nll_loss.weight``). 19 outputs.
* ``pebal``: PEBAL's fine-tuned model (``best_ad_ckpt.pth``) and
* ``balanced-energy``: the paper's (``Balanced_Energy``'s release): both
  ``{'model': ...}`` files whose keys carry ``branch1.`` (the network sits
  in a ``Network`` wrapper), beside the optimiser state; 20 outputs (the
  abstention channel last) or 19.

:func:`convert_state_dict` maps every released key to this project's names
(:class:`~mmseg_be.models.backbones.WiderResNetA2` +
:class:`~mmseg_be.models.decode_heads.DeepWV3PlusHead`), drops the keys
that are not part of the network with a reason, and refuses anything else:
a key it cannot place, a shape that differs from the model's, a model key
the file does not provide. A model is never half loaded.
"""
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from .backbones.wider_resnet import STAGE_BLOCKS, WiderResNetA2
from .decode_heads.deepwv3plus_head import DeepWV3PlusHead

SOURCES = ('nvidia', 'pebal', 'balanced-energy')
# Containers the released files use, by source.
CONTAINER = {'nvidia': 'state_dict', 'pebal': 'model',
             'balanced-energy': 'model'}
ABSTENTION_OUTPUTS = 20
NUM_CLASSES = 19

Rule = Tuple[str, Callable[[re.Match], str]]


def _block(m: re.Match) -> str:
    """``modS.blockB`` (B from 1) -> ``backbone.modS.{B-1}``."""
    return f'backbone.mod{m[1]}.{int(m[2]) - 1}'


# Released name (without prefix) -> this project's name.
KEY_RULES: Sequence[Rule] = (
    (r'mod1\.conv1\.weight', lambda m: 'backbone.stem.weight'),
    (r'mod(\d)\.block(\d+)\.bn1\.0\.(\w+)',
     lambda m: f'{_block(m)}.norm1.{m[3]}'),
    (r'mod(\d)\.block(\d+)\.convs\.conv(\d)\.weight',
     lambda m: f'{_block(m)}.conv{m[3]}.weight'),
    (r'mod(\d)\.block(\d+)\.convs\.bn(\d)\.0\.(\w+)',
     lambda m: f'{_block(m)}.norm{m[3]}.{m[4]}'),
    (r'mod(\d)\.block(\d+)\.proj_conv\.weight',
     lambda m: f'{_block(m)}.proj_conv.weight'),
    (r'aspp\.img_conv\.0\.weight',
     lambda m: 'decode_head.image_pool.1.conv.weight'),
    (r'aspp\.img_conv\.1\.(\w+)',
     lambda m: f'decode_head.image_pool.1.bn.{m[1]}'),
    (r'aspp\.features\.(\d)\.0\.weight',
     lambda m: f'decode_head.aspp_modules.{m[1]}.conv.weight'),
    (r'aspp\.features\.(\d)\.1\.(\w+)',
     lambda m: f'decode_head.aspp_modules.{m[1]}.bn.{m[2]}'),
    (r'bot_aspp\.weight', lambda m: 'decode_head.bottleneck.weight'),
    (r'bot_fine\.weight', lambda m: 'decode_head.c1_bottleneck.weight'),
    (r'final\.0\.weight', lambda m: 'decode_head.final.0.conv.weight'),
    (r'final\.1\.(\w+)', lambda m: f'decode_head.final.0.bn.{m[1]}'),
    (r'final\.3\.weight', lambda m: 'decode_head.final.1.conv.weight'),
    (r'final\.4\.(\w+)', lambda m: f'decode_head.final.1.bn.{m[1]}'),
    (r'final\.6\.weight', lambda m: 'decode_head.conv_seg.weight'),
)
# Released keys that are not part of the network, with the reason.
DROPPED_KEYS: Sequence[Tuple[str, str]] = (
    (r'criterion\..*', "class weights of NVIDIA's training loss, not part of "
     'the network'),
)
CLASSIFIER = 'decode_head.conv_seg.weight'


class ConversionError(ValueError):
    """The file is not a released ``DeepWV3Plus`` checkpoint, or does not
    fit the model; the message says which keys and what to do."""


@dataclass
class Conversion:
    """The converted weights and the account of every source key.

    Attributes:
        state_dict: This project's keys -> tensors, in the model's order.
        source: ``'nvidia'``, ``'pebal'`` or ``'balanced-energy'``.
        num_outputs: Outputs of the converted classifier (19, or 20 with the
            abstention channel).
        mapped: Source key (as in the file) -> this project's key.
        dropped: Source key -> why it was left out.
        added: This project's key -> how it was made (keys the file lacks:
            batch-norm counters of old files, the new abstention row).
    """
    state_dict: Dict[str, torch.Tensor]
    source: str
    num_outputs: int
    mapped: Dict[str, str] = field(default_factory=dict)
    dropped: Dict[str, str] = field(default_factory=dict)
    added: Dict[str, str] = field(default_factory=dict)

    def record(self) -> dict:
        """What the checkpoint's ``meta`` keeps of the conversion."""
        return dict(source=self.source, num_outputs=self.num_outputs,
                    mapped=len(self.mapped), dropped=dict(self.dropped),
                    added=dict(self.added))


def model_shapes(num_outputs: int = NUM_CLASSES, depth: int = 38
                 ) -> Dict[str, Tuple[int, ...]]:
    """Keys and shapes of this project's DeepWV3Plus state dict (built on
    the ``meta`` device: no memory, no initialisation)."""
    with torch.device('meta'):
        backbone = WiderResNetA2(depth=depth)
        head = DeepWV3PlusHead(in_channels=4096, in_index=1, channels=256,
                               num_classes=num_outputs, dropout_ratio=0.0,
                               norm_cfg=dict(type='BN', requires_grad=True),
                               align_corners=True)
    shapes = {}
    for prefix, module in (('backbone', backbone), ('decode_head', head)):
        for key, value in module.state_dict().items():
            shapes[f'{prefix}.{key}'] = tuple(value.shape)
    return shapes


def unwrap(checkpoint: dict, source: Optional[str] = None
           ) -> Tuple[Dict[str, torch.Tensor], str, str]:
    """The network's state dict inside a released file.

    Args:
        checkpoint: What ``torch.load`` returned.
        source: The expected source, or ``None`` to detect it.

    Returns:
        ``(state, source, prefix)``: the state dict with its keys' wrapper
        prefix removed, the detected source (``'nvidia'`` or, for a
        ``{'model': ...}`` file, the given one or ``'balanced-energy'``), and
        the prefix that was removed.
    """
    if not isinstance(checkpoint, dict):
        raise ConversionError(
            f'expected a dict (a checkpoint), got {type(checkpoint).__name__}')
    if 'meta' in checkpoint and 'state_dict' in checkpoint and any(
            k.startswith(('backbone.', 'decode_head.'))
            for k in checkpoint['state_dict']):
        raise ConversionError(
            'this is already an MMSeg checkpoint (keys backbone.*, '
            'decode_head.*): give it to the configs as it is, no conversion '
            'needed')
    if 'state_dict' in checkpoint:
        nvidia_layout, state = True, checkpoint['state_dict']
    elif 'model' in checkpoint:
        nvidia_layout, state = False, checkpoint['model']
    elif checkpoint and all(torch.is_tensor(v) for v in checkpoint.values()):
        nvidia_layout, state = None, checkpoint
    else:
        raise ConversionError(
            'no network weights found: a released checkpoint holds them '
            f"under 'state_dict' (NVIDIA) or 'model' (PEBAL, Balanced "
            f'Energy); this file has the entries {sorted(checkpoint)[:10]}')
    if not isinstance(state, dict) or not state:
        raise ConversionError('the weights entry of the file is empty or not '
                              'a dict of tensors')
    prefix = ''
    for candidate in ('module.branch1.', 'branch1.', 'module.'):
        if all(k.startswith(candidate) for k in state):
            prefix = candidate
            break
    if nvidia_layout is None:  # a bare state dict: tell them by the prefix
        nvidia_layout = prefix == 'module.'
    if source is not None and (source == 'nvidia') != nvidia_layout:
        layout = 'nvidia' if nvidia_layout else 'balanced-energy'
        raise ConversionError(
            f'--source {source} does not match the file: it is laid out as '
            f"{'NVIDIA' if nvidia_layout else 'PEBAL / Balanced Energy'}"
            "'s checkpoints (weights under "
            f"'{CONTAINER[layout]}'); use --source {layout} or auto")
    found = 'nvidia' if nvidia_layout else (source or 'balanced-energy')
    return {k[len(prefix):]: v for k, v in state.items()}, found, prefix


def _target_key(key: str) -> Optional[str]:
    for pattern, name in KEY_RULES:
        match = re.fullmatch(pattern, key)
        if match:
            return name(match)
    return None


def _drop_reason(key: str) -> Optional[str]:
    for pattern, reason in DROPPED_KEYS:
        if re.fullmatch(pattern, key):
            return reason
    return None


def _abstention_row(classifier: torch.Tensor, seed: int) -> torch.Tensor:
    """The classifier with one new output row, Kaiming-normal initialised
    (fan-in, gain sqrt(2)) as the released fine-tuning initialises it."""
    gen = torch.Generator().manual_seed(seed)
    fan_in = math.prod(classifier.shape[1:])
    row = torch.randn((1, ) + tuple(classifier.shape[1:]), generator=gen,
                      dtype=torch.float64) * math.sqrt(2.0 / fan_in)
    return torch.cat([classifier, row.to(classifier.dtype)])


def convert_state_dict(checkpoint: dict,
                       source: Optional[str] = None,
                       add_abstention: bool = False,
                       seed: int = 0) -> Conversion:
    """Convert a released ``DeepWV3Plus`` checkpoint.

    Args:
        checkpoint: The loaded file (a dict).
        source: ``'nvidia'``, ``'pebal'``, ``'balanced-energy'`` or ``None``
            to detect the layout (PEBAL's and Balanced Energy's files are
            laid out alike; ``None`` names them ``'balanced-energy'``).
        add_abstention: Give a 19-output classifier the abstention channel
            (a 20th output, new weights drawn with ``seed``): the start of
            the released fine-tuning, which trains that channel.
        seed: Seed of the new abstention row.

    Returns:
        Conversion: The weights and the account of every key.

    Raises:
        ConversionError: A key that is neither mapped nor known to be
            droppable, a shape that differs from the model's, a model key
            the file lacks, or a classifier of another size.
    """
    if source is not None and source not in SOURCES:
        raise ConversionError(f'unknown source {source!r}; one of {SOURCES}')
    state, found, prefix = unwrap(checkpoint, source)
    mapped, dropped, unknown = {}, {}, []
    converted = {}
    for key, value in state.items():
        target = _target_key(key)
        if target is not None:
            mapped[prefix + key] = target
            converted[target] = value
            continue
        reason = _drop_reason(key)
        if reason is not None:
            dropped[prefix + key] = reason
        else:
            unknown.append(prefix + key)
    if unknown:
        raise ConversionError(
            f'{len(unknown)} key(s) are not part of the released DeepWV3Plus '
            f'(WideResNet38 DeepLabV3+), e.g. {unknown[:8]}: this is not a '
            'checkpoint of that network (NVIDIA sdcnet, PEBAL or Balanced '
            'Energy release)')
    if CLASSIFIER not in converted:
        raise ConversionError(
            'the file has no classifier (final.6.weight): not a complete '
            'DeepWV3Plus checkpoint')
    num_outputs = converted[CLASSIFIER].shape[0]
    if num_outputs not in (NUM_CLASSES, ABSTENTION_OUTPUTS):
        raise ConversionError(
            f'the classifier has {num_outputs} outputs; the released '
            f'checkpoints have {NUM_CLASSES} (Cityscapes classes) or '
            f'{ABSTENTION_OUTPUTS} (with the abstention channel)')
    added = {}
    if add_abstention:
        if num_outputs != NUM_CLASSES:
            raise ConversionError(
                f'--add-abstention needs a {NUM_CLASSES}-output classifier; '
                f'this one already has {num_outputs} outputs')
        converted[CLASSIFIER] = _abstention_row(converted[CLASSIFIER], seed)
        num_outputs = ABSTENTION_OUTPUTS
        added[f'{CLASSIFIER}[{NUM_CLASSES}]'] = (
            f'new abstention output, Kaiming-normal (fan-in), seed {seed}')
    depth = _depth_of(converted)
    shapes = model_shapes(num_outputs, depth)
    wrong = [f'{k}: file {tuple(v.shape)}, model {shapes[k]}'
             for k, v in converted.items()
             if k in shapes and tuple(v.shape) != shapes[k]]
    extra = [k for k in converted if k not in shapes]
    if wrong or extra:
        raise ConversionError(
            'the weights do not fit the WideResNet38 DeepLabV3+: '
            + '; '.join((wrong + [f'{k}: not in the model' for k in extra])
                        [:8]))
    ordered = {}
    missing = []
    for key in shapes:
        if key in converted:
            ordered[key] = converted[key]
        elif key.endswith('.num_batches_tracked'):
            # Files saved before PyTorch 0.4.1 lack the counter; it only
            # matters for BN momentum=None, which no released model uses.
            ordered[key] = torch.tensor(0, dtype=torch.long)
            added[key] = 'batch-norm counter absent from the file, set to 0'
        else:
            missing.append(key)
    if missing:
        raise ConversionError(
            f'{len(missing)} weight(s) of the model are not in the file, '
            f'e.g. {missing[:8]}: the checkpoint is incomplete')
    return Conversion(ordered, found, num_outputs, mapped, dropped, added)


def _depth_of(converted: Dict[str, torch.Tensor]) -> int:
    """The trunk depth whose stage lengths match the converted blocks."""
    blocks = []
    for stage in range(2, 8):
        ids = {int(k.split('.')[2]) for k in converted
               if k.startswith(f'backbone.mod{stage}.')}
        blocks.append(max(ids) + 1 if ids else 0)
    for depth, layout in STAGE_BLOCKS.items():
        if tuple(blocks) == layout:
            return depth
    raise ConversionError(
        f'blocks per stage {tuple(blocks)} match no WiderResNet-A2 depth '
        f'({ {d: s for d, s in STAGE_BLOCKS.items()} })')


def describe(conversion: Conversion) -> List[str]:
    """Lines for the tool's report."""
    lines = [f'source: {conversion.source}, {conversion.num_outputs} outputs',
             f'mapped: {len(conversion.mapped)} keys']
    lines += [f'dropped: {k} ({why})' for k, why in conversion.dropped.items()]
    lines += [f'added: {k} ({how})' for k, how in conversion.added.items()]
    return lines
