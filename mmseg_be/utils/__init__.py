"""Small utilities shared by the tools."""
from .paths import config_path, package_root

__all__ = ['config_path', 'package_root']
