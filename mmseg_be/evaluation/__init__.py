"""Pixel-level OOD evaluation."""
