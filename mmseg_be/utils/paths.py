"""Locate the configs and tools of a checkout or of an installed package."""
import os.path as osp


def package_root() -> str:
    """Directory holding ``configs/`` and ``tools/``.

    In a checkout that is the repository root; in an installed package it is
    ``mmseg_be/.mim`` (where setup.py puts them).
    """
    here = osp.dirname(osp.dirname(osp.abspath(__file__)))
    checkout = osp.dirname(here)
    if osp.isdir(osp.join(checkout, 'configs')) and osp.isfile(
            osp.join(checkout, 'setup.py')):
        return checkout
    return osp.join(here, '.mim')


def config_path(config: str) -> str:
    """Resolve a config given as a file path or relative to ``configs/``.

    Args:
        config: An existing file path, or a path such as
            ``demo/toy_deeplabv3plus_r18.py`` relative to the project's
            ``configs/`` folder.

    Returns:
        str: An existing file path.

    Raises:
        FileNotFoundError: Neither interpretation names a file.
    """
    if osp.isfile(config):
        return config
    candidate = osp.join(package_root(), 'configs', config)
    if osp.isfile(candidate):
        return candidate
    raise FileNotFoundError(
        f'Config {config!r} not found, neither as a path nor under '
        f'{osp.join(package_root(), "configs")}.')
