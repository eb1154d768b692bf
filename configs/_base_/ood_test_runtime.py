# MMSeg's default runtime for testing on the OOD benchmarks: test-time
# pictures are anomaly heat maps (AnomalyVisualizer, drawn with the config's
# anomaly_score), and every test image is drawn when --show-dir is given
# (MMSeg's own tools/test.py as well as this project's).
_base_ = ['mmseg::_base_/default_runtime.py']

visualizer = dict(
    type='AnomalyVisualizer',
    vis_backends=[dict(type='LocalVisBackend')],
    name='visualizer')
default_hooks = dict(
    visualization=dict(type='SegVisualizationHook', interval=1))
