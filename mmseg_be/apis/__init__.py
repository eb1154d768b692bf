"""High-level functions behind the tools."""
from .prior_estimation import (estimate_prior, without_missing_prior_files,
                               write_prior_json)

__all__ = ['estimate_prior', 'without_missing_prior_files',
           'write_prior_json']
