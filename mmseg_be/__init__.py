"""mmseg_be: balanced energy regularization for pixel-level OOD segmentation.

Importing this package applies the environment fixes of :mod:`mmseg_be.compat`
(before MMSegmentation is imported) and registers every module of the package
into MMSegmentation's registries. Configs load it with
``custom_imports = dict(imports=['mmseg_be'], allow_failed_imports=False)``.
"""
from . import compat

compat.apply()

from .version import __version__  # noqa: E402
from . import (apis, datasets, engine, evaluation, export,  # noqa: E402,F401
               models, scoring, visualization)

__all__ = ['__version__', 'apis', 'compat', 'datasets', 'engine',
           'evaluation', 'export', 'models', 'scoring', 'visualization']
