"""Environment fixes that must run before MMSegmentation is imported.

First, without any ``mmcv`` (neither ``mmcv-lite`` nor full mmcv is a plain
requirement of the package) :func:`require_mmcv` raises one ImportError that
names both install choices. Then two problems of the CPU stack (see
docs/install.md):

1. ``mmcv-lite`` ships no compiled ops (``mmcv._ext``), yet ``mmseg.models``,
   ``mmseg.datasets`` and ``mmseg.apis`` import ``mmcv.ops`` at module level.
   When (and only when) ``mmcv._ext`` cannot be found, a stand-in module is
   registered whose attributes are callables that raise
   :class:`MissingCompiledOpError` naming the op, so models that never call a
   compiled op (DeepLabV3+ among them) work and ops-bound models fail clearly.
2. torch >= 2.6 loads checkpoints with ``weights_only=True`` while mmengine
   0.10.x does not pass ``weights_only``; its checkpoints carry a
   ``HistoryBuffer`` and numpy arrays in ``message_hub``. Those exact types are
   allow-listed for the weights-only unpickler instead of disabling it.
"""
import importlib.machinery
import importlib.util
import sys
import types
from typing import Callable, List

STANDIN_NAME = 'mmcv._ext'

FULL_MMCV_HINT = (
    'mmcv-lite is installed, which has no compiled ops. Install full mmcv '
    '2.1 (a prebuilt wheel from OpenMMLab built for your torch and CUDA, '
    'or build it from source with `pip install "mmcv==2.1.0" '
    '--no-build-isolation` with torch already installed); see docs/install.md.')


NO_MMCV_MESSAGE = (
    'mmseg_be needs mmcv 2.x (>=2.0.0rc4,<2.2.0), and no `mmcv` module is '
    'installed. Choose one:\n'
    '  * CPU, no compiled ops: `pip install mmcv-lite==2.1.0` (or, in '
    'the mmseg_be clone, `pip install ".[cpu]"`);\n'
    '  * GPU: install full mmcv 2.1 built for your torch and CUDA (a '
    'prebuilt wheel from OpenMMLab, or `pip install "mmcv==2.1.0" '
    '--no-build-isolation` with torch already installed), then, in the '
    'mmseg_be clone, `pip install .`.\n'
    'See docs/install.md.')


class MissingCompiledOpError(RuntimeError):
    """Raised when a compiled mmcv op is called under mmcv-lite."""


class _MissingOp:
    """Placeholder for one compiled op: importable, fails only when called."""

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        raise MissingCompiledOpError(
            f'The compiled mmcv op `{self.__name__}` was called, but '
            f'{FULL_MMCV_HINT}')

    def __repr__(self) -> str:
        return f'<missing compiled mmcv op {self.__name__}>'


class _CompiledOpsStandIn(types.ModuleType):
    """Module object that answers every attribute with a :class:`_MissingOp`."""

    def __getattr__(self, name: str):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        op = _MissingOp(name)
        setattr(self, name, op)
        return op


def require_mmcv() -> None:
    """Fail at import, naming both install choices, when no mmcv exists.

    Raises:
        ImportError: Neither mmcv-lite nor full mmcv is installed.
    """
    if 'mmcv' in sys.modules:
        return
    try:
        found = importlib.util.find_spec('mmcv') is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ImportError(NO_MMCV_MESSAGE, name='mmcv')


def has_compiled_mmcv_ops() -> bool:
    """Whether a real ``mmcv._ext`` (full mmcv) can be imported."""
    existing = sys.modules.get(STANDIN_NAME)
    if existing is not None:
        return not isinstance(existing, _CompiledOpsStandIn)
    try:
        return importlib.util.find_spec(STANDIN_NAME) is not None
    except (ImportError, ValueError):
        return False


def install_mmcv_ext_standin() -> bool:
    """Register the stand-in for ``mmcv._ext`` if full mmcv is absent.

    Returns:
        bool: True if the stand-in is (now or already) installed, False when
        full mmcv provides the compiled ops and nothing was changed.
    """
    if has_compiled_mmcv_ops():
        return False
    if STANDIN_NAME in sys.modules:
        return True
    module = _CompiledOpsStandIn(STANDIN_NAME)
    # mmengine's environment check reads __spec__; a None spec breaks it.
    module.__spec__ = importlib.machinery.ModuleSpec(STANDIN_NAME, None)
    module.__file__ = None
    sys.modules[STANDIN_NAME] = module
    parent = sys.modules.get('mmcv')
    if parent is not None:
        setattr(parent, '_ext', module)
    return True


def checkpoint_safe_globals() -> List[Callable]:
    """The types an mmengine checkpoint pickles besides tensors and builtins."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar

    dtype_classes = [type(np.dtype(name)) for name in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
        'uint32', 'uint64', 'float16', 'float32', 'float64', 'complex64',
        'complex128', 'object', 'str', 'bytes')]
    return [HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar,
            getattr, *dtype_classes]


def allow_mmengine_checkpoints() -> None:
    """Allow-list mmengine checkpoint types for ``torch.load(weights_only)``."""
    import torch.serialization
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4 has no weights-only default to satisfy
        return
    add(checkpoint_safe_globals())


def apply() -> None:
    """Apply every fix; idempotent.

    Raises:
        ImportError: No mmcv is installed (see :func:`require_mmcv`).
    """
    require_mmcv()
    install_mmcv_ext_standin()
    allow_mmengine_checkpoints()
