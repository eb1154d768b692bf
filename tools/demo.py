"""Entry point; see `python tools/demo.py --help` and demo/cli.py."""
import os
import sys

# The demo lives beside the package in a checkout (demo/): put the
# repository on the path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from demo.cli import main  # noqa: E402

if __name__ == '__main__':
    main()
