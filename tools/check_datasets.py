"""Shim over mmseg_be.cli.check_datasets; see `--help`."""
import os
import sys

# Run from a checkout without installing: put the repository on the path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmseg_be.cli.check_datasets import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
