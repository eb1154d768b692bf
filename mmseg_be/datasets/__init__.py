"""Datasets and data transforms, registered in MMSeg's registries."""
from . import transforms  # noqa: F401
from .fishyscapes import (FishyscapesLostAndFoundDataset,
                          FishyscapesStaticDataset)
from .lost_and_found import LostAndFoundDataset
from .ood_base import OODBenchmarkDataset, describe_tree
from .ood_loading import LoadOODAnnotations
from .road_anomaly import RoadAnomalyDataset
from .smiyc import SMIYCAnomalyTrackDataset, SMIYCObstacleTrackDataset

__all__ = [
    'FishyscapesLostAndFoundDataset', 'FishyscapesStaticDataset',
    'LoadOODAnnotations', 'LostAndFoundDataset', 'OODBenchmarkDataset',
    'RoadAnomalyDataset', 'SMIYCAnomalyTrackDataset',
    'SMIYCObstacleTrackDataset', 'describe_tree'
]
