"""Datasets and data transforms, registered in MMSeg's registries."""
from .transforms import LoadOODAnnotations, PasteOutliers
from .fishyscapes import (FishyscapesLostAndFoundDataset,
                          FishyscapesStaticDataset)
from .bdd_anomaly import BDDAnomalyDataset
from .lost_and_found import LostAndFoundDataset
from .ood_base import OODBenchmarkDataset, describe_tree
from .road_anomaly import RoadAnomalyDataset
from .releases import Release, ReleaseMismatchWarning
from .smiyc import SMIYCAnomalyTrackDataset, SMIYCObstacleTrackDataset
from .street_hazards import StreetHazardsAnomalyDataset, StreetHazardsDataset

__all__ = [
    'BDDAnomalyDataset', 'FishyscapesLostAndFoundDataset',
    'FishyscapesStaticDataset', 'LoadOODAnnotations', 'LostAndFoundDataset',
    'OODBenchmarkDataset', 'PasteOutliers', 'Release',
    'ReleaseMismatchWarning', 'RoadAnomalyDataset',
    'SMIYCAnomalyTrackDataset', 'SMIYCObstacleTrackDataset',
    'StreetHazardsAnomalyDataset', 'StreetHazardsDataset', 'describe_tree'
]
