"""Data transforms, registered in MMSeg\x27s TRANSFORMS."""
