"""Small utilities shared by the tools."""
from .errors import SettingsError
from .paths import config_path, package_root

__all__ = ['SettingsError', 'config_path', 'package_root']
