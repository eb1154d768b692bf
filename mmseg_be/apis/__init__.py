"""High-level functions behind the tools."""
from .prior_estimation import estimate_prior, write_prior_json

__all__ = ['estimate_prior', 'write_prior_json']
