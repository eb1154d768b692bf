"""Command-line entry points behind tools/train.py and tools/test.py."""
