# Evaluate a checkpoint of the PAL recipe
# (configs/balanced_energy/deeplabv3plus_r101-d8_pal-balanced-energy_1xb8-8k_cityscapes-coco-900x900.py)
# on smiyc anomaly track: the DeepLabV3+ R-101-D8 test config with that recipe's
# head, whose classifier has 20 outputs (19 classes + the abstention channel,
# dropped at inference), and no auxiliary head:
#   python tools/test.py configs/benchmarks/deeplabv3plus-pal_r101-d8_test-smiyc-anomaly-track.py CHECKPOINT
# A PAL checkpoint does not fit the 19-output deeplabv3plus_r101-d8_ configs
# (tools/test.py stops and says so), nor does a 19-class checkpoint fit these.
_base_ = ['./deeplabv3plus_r101-d8_test-smiyc-anomaly-track.py']

model = dict(
    decode_head=dict(type='AbstentionASPPHead'), auxiliary_head=None)
