# SegmentMeIfYouCan ObstacleTrack (RoadObstacle21), public validation labels;
# the road is the region of interest, all else 255 (docs/benchmarks.md).
# Everything but the dataset, its root and the track comes from smiyc.py,
# shared with the AnomalyTrack.
_base_ = ['./smiyc.py']

dataset_type = 'SMIYCObstacleTrackDataset'
data_root = 'data/smiyc/dataset_ObstacleTrack'
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = test_dataloader
test_evaluator = dict(track='obstacle')
val_evaluator = test_evaluator
export_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
