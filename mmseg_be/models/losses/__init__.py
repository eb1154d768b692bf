"""OOD-aware losses, registered in MMSeg\x27s MODELS."""
