# SegFormer MiT-B2 exactly as MMSeg's Cityscapes model zoo builds it
# (mmseg::segformer/segformer_mit-b2_8xb1-160k_cityscapes-1024x1024.py), so
# its checkpoint loads every weight (tests/test_segmentor_configs.py compares
# the two configs). As in MMSeg's own configs, B2 is B5 with fewer layers per
# stage, so everything else (and every deliberate difference from the zoo,
# listed in segformer_mit-b5.py) comes from there.
_base_ = ['./segformer_mit-b5.py']

model = dict(backbone=dict(num_layers=[3, 4, 6, 3]))
