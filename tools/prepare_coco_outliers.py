"""Entry point; see `python tools/prepare_coco_outliers.py --help` and mmseg_be/cli/prepare_coco_outliers.py."""
import os
import sys

# Run from a checkout without installing: put the repository on the path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmseg_be.cli.prepare_coco_outliers import main  # noqa: E402

if __name__ == '__main__':
    main()
