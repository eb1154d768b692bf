"""Datasets and data transforms, registered in MMSeg's registries."""
from .transforms import LoadOODAnnotations, PasteOutliers
from .fishyscapes import (FishyscapesLostAndFoundDataset,
                          FishyscapesStaticDataset)
from .lost_and_found import LostAndFoundDataset
from .ood_base import OODBenchmarkDataset, describe_tree
from .road_anomaly import RoadAnomalyDataset
from .smiyc import SMIYCAnomalyTrackDataset, SMIYCObstacleTrackDataset

__all__ = [
    'FishyscapesLostAndFoundDataset', 'FishyscapesStaticDataset',
    'LoadOODAnnotations', 'LostAndFoundDataset', 'OODBenchmarkDataset',
    'PasteOutliers', 'RoadAnomalyDataset', 'SMIYCAnomalyTrackDataset',
    'SMIYCObstacleTrackDataset', 'describe_tree'
]
