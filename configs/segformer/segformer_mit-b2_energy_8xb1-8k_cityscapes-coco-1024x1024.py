# SegFormer MiT-B2 fine-tuned on Cityscapes + pasted COCO outliers with the
# OOD-aware cross-entropy + 0.1 x vanilla energy regularization: the MiT-B5
# recipe of this folder (same data, crop, schedule, losses and score) on
# MMSeg's Cityscapes model-zoo checkpoint
# segformer_mit-b2_8xb1-160k_cityscapes-1024x1024
# (load_from below; mmengine downloads it on first use).
# Only the layers per stage and the starting weights differ, as in MMSeg's
# own B2/B5 configs (tests/test_configs.py compares the resolved configs).
_base_ = './segformer_mit-b5_energy_8xb1-8k_cityscapes-coco-1024x1024.py'

load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b2_8x1_1024x1024_160k_cityscapes/segformer_mit-b2_8x1_1024x1024_160k_cityscapes_20211207_134205-6096669a.pth'  # noqa
model = dict(backbone=dict(num_layers=[3, 4, 6, 3]))
