"""Anomaly scores from segmentation logits."""
