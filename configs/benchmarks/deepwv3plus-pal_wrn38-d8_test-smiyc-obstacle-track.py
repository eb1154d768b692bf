# Evaluate the released WideResNet38 DeepLabV3+ with the abstention channel
# (20 outputs: PEBAL's or Balanced Energy's released checkpoint converted with
# tools/convert_checkpoint.py, or a checkpoint of the recipe
# configs/balanced_energy/deepwv3plus_wrn38-d8_pal-balanced-energy_1xb8-8k_cityscapes-coco-900x900.py)
# on smiyc obstacle track: the 19-output config with the abstention head, whose 20th
# output is dropped at inference (the score is the released one: energy of the
# 19 class logits, 7x7 Gaussian smoothing, sigma 1; docs/reproduce.md):
#   python tools/test.py configs/benchmarks/deepwv3plus-pal_wrn38-d8_test-smiyc-obstacle-track.py CHECKPOINT
_base_ = ['./deepwv3plus_wrn38-d8_test-smiyc-obstacle-track.py']

model = dict(decode_head=dict(type='AbstentionDeepWV3PlusHead'))
