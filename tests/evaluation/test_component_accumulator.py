"""SMIYC component metrics on hand-drawn masks with hand-computed answers."""
import numpy as np
import pytest

from mmseg_be.evaluation.component_accumulator import (
    ComponentMetricAccumulator, segment_components)


def test_two_objects_hand_computed():
    label = np.zeros((12, 12), np.uint8)
    label[1:4, 1:4] = 1           # object A: 9 px
    label[7:10, 7:10] = 1         # object B: 9 px
    score = np.zeros((12, 12))
    score[1:4, 1:5] = 1           # 12 px over A (3 outside)
    score[8:10, 8:10] = 1         # 4 px inside B
    siou, ppv = segment_components(score, label, 0.5, segsize=1, instsize=1)
    # A: |k & K^| = 9, |K^| = 12, |k| = 9 -> 9 / (12 + 9 - 9) = 0.75
    # B: 4 / (4 + 9 - 4) = 4 / 9
    assert siou.tolist() == pytest.approx([0.75, 4 / 9])
    assert sorted(ppv.tolist()) == pytest.approx([0.75, 1.0])


def test_prediction_spanning_two_objects_discounts_the_other():
    label = np.zeros((5, 12), np.uint8)
    label[1:4, 1:4] = 1           # A: 9 px
    label[1:4, 6:9] = 1           # B: 9 px
    score = np.zeros((5, 12))
    score[2, 1:9] = 1             # one bar of 8 px through both objects
    siou, ppv = segment_components(score, label, 0.5, 1, 1)
    # for A: K^ = bar (8 px), k & K^ = 3, K^ & A(other) = 3 (in B)
    # sIoU = 3 / (8 + 9 - 3 - 3) = 3 / 11; same for B
    assert siou.tolist() == pytest.approx([3 / 11, 3 / 11])
    # the bar: 6 anomaly pixels of 8
    assert ppv.tolist() == pytest.approx([6 / 8])


def test_eight_connectivity_and_size_thresholds():
    label = np.zeros((10, 10), np.uint8)
    label[0:2, 0:2] = 1           # 4 px object: below instsize 5 -> ignore
    label[5:9, 5:9] = 1           # 16 px object
    label[9, 0:3] = 255
    score = np.zeros((10, 10))
    score[0, 0] = score[1, 1] = 1  # diagonal pair: one 8-connected comp
    score[5:9, 5:9] = 1
    score[9, 0:3] = 1             # on ignore: zeroed
    score[3, 9] = 1               # 1 px false positive: below segsize 2
    siou, ppv = segment_components(score, label, 0.5, segsize=2, instsize=5)
    assert siou.tolist() == [1.0]
    # the diagonal pair lies only on the now-ignored small object: no ROI
    # pixels, so it is not counted; the big prediction has PPV 1
    assert ppv.tolist() == [1.0]
    # without the instsize rule the small object counts: sIoU 2/4
    siou, ppv = segment_components(score, label, 0.5, segsize=2, instsize=1)
    assert sorted(siou.tolist()) == [0.5, 1.0]


def test_dataset_means_and_f1_pool_components():
    acc = ComponentMetricAccumulator('obstacle', segsize=1, instsize=1)
    label = np.zeros((6, 6), np.uint8)
    label[1:3, 1:3] = 1
    score = np.zeros((6, 6))
    score[1:3, 1:3] = 1
    acc.process(score, label, 0.5)          # sIoU 1, PPV 1
    score2 = np.zeros((6, 6))
    score2[1:3, 1:2] = 1                    # half the object: sIoU 0.5
    score2[5, 5] = 1                        # false positive: PPV 0
    acc.process(score2, label, 0.5)
    r = acc.compute()
    assert r['sIoU'] == pytest.approx((1 + 0.5) / 2)
    assert r['PPV'] == pytest.approx((1 + 1 + 0) / 3)
    # tau <= 0.5: TP 2, FN 0, FP 1 -> 4/5; tau > 0.5: TP 1, FN 1, FP 1 -> 2/4
    taus = np.linspace(0.25, 0.75, 11)
    expected = [0.8 if t <= 0.5 else 0.5 for t in taus]
    assert r['mean_F1'] == pytest.approx(np.mean(expected))
    assert acc.segsize == 1 and ComponentMetricAccumulator('obstacle'
                                                           ).segsize == 50
    assert ComponentMetricAccumulator('anomaly').instsize == 100
    with pytest.raises(ValueError, match='track'):
        ComponentMetricAccumulator('road')
