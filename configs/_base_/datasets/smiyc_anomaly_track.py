# SegmentMeIfYouCan AnomalyTrack (RoadAnomaly21), public validation labels
# (docs/benchmarks.md). Everything but the dataset, its root and the track
# comes from smiyc.py, shared with the ObstacleTrack.
_base_ = ['./smiyc.py']

dataset_type = 'SMIYCAnomalyTrackDataset'
data_root = 'data/smiyc/dataset_AnomalyTrack'
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = test_dataloader
test_evaluator = dict(track='anomaly')
val_evaluator = test_evaluator
export_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
