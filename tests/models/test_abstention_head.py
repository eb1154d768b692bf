"""AbstentionASPPHead: C+1 outputs for the losses, C for prediction/scores."""
import torch

import mmseg_be  # noqa: F401,I001  (first: installs the mmcv-lite stand-in)
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from mmseg_be.scoring import compute_anomaly_score, energy_score
from tests.helpers import TOY_CONFIG

C = 4


def build_segmentor():
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(TOY_CONFIG)
    model_cfg = cfg.model
    model_cfg.decode_head.type = 'AbstentionASPPHead'
    model_cfg.decode_head.num_classes = C
    model_cfg.decode_head.loss_decode = [
        dict(type='PALLoss', num_classes=C),
        dict(type='BalancedEnergyLoss', num_classes=C),
    ]
    model_cfg.auxiliary_head = None
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def test_head_outputs_c_plus_1_but_predicts_c_channels():
    torch.manual_seed(0)
    model = build_segmentor().eval()
    head = model.decode_head
    assert head.conv_seg.out_channels == C + 1
    assert head.num_classes == C == head.out_channels == model.num_classes
    # Make the abstention channel win everywhere: a plain argmax over the raw
    # output would then predict the non-existent class C.
    with torch.no_grad():
        head.conv_seg.bias[C] = 100.0
    img = torch.rand(1, 3, 64, 96) * 255
    meta = dict(img_shape=(64, 96), ori_shape=(64, 96), pad_shape=(64, 96),
                padding_size=[0, 0, 0, 0])
    sample = SegDataSample(metainfo=meta)
    with torch.no_grad():
        raw = head.forward(model.extract_feat(
            model.data_preprocessor(dict(inputs=[img[0]],
                                         data_samples=[sample]))['inputs']))
        assert raw.shape[1] == C + 1 and (raw.argmax(1) == C).all()
        result = model.test_step(
            dict(inputs=[img[0]], data_samples=[sample]))[0]
    logits = result.seg_logits.data
    assert logits.shape == (C, 64, 96)
    pred = result.pred_sem_seg.data[0]
    # Independent check: resize the raw class logits ourselves.
    expected = torch.nn.functional.interpolate(
        raw[:, :C], size=(64, 96), mode='bilinear',
        align_corners=head.align_corners)[0]
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(pred, expected.argmax(0))
    assert pred.max() < C
    # The anomaly score of the prediction uses the C class logits only.
    score = compute_anomaly_score(logits.unsqueeze(0), 'energy')
    torch.testing.assert_close(score[0], -torch.logsumexp(expected, 0),
                               rtol=1e-5, atol=1e-5)
    # On raw C+1 logits the scoring must be told C.
    raw_up = torch.nn.functional.interpolate(raw, size=(64, 96),
                                             mode='bilinear')
    with_c = compute_anomaly_score(raw_up, 'energy', num_classes=C)
    torch.testing.assert_close(with_c, energy_score(raw_up[:, :C]))


def test_head_losses_receive_c_plus_1_channels():
    torch.manual_seed(1)
    model = build_segmentor().train()
    imgs, samples = [], []
    for has_ood in (True, False):  # BN needs two images in train mode
        label = torch.randint(0, C, (1, 64, 96))
        if has_ood:
            label[0, 10:30, 20:50] = 254
        sample = SegDataSample(metainfo=dict(img_shape=(64, 96),
                                             ori_shape=(64, 96),
                                             pad_shape=(64, 96)))
        sample.gt_sem_seg = PixelData(data=label)
        imgs.append(torch.rand(3, 64, 96) * 255)
        samples.append(sample)
    data = model.data_preprocessor(
        dict(inputs=imgs, data_samples=samples), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) >= {'decode.loss_pal', 'decode.loss_balanced_energy'}
    total = losses['decode.loss_pal'] + losses['decode.loss_balanced_energy']
    total.backward()
    assert model.decode_head.conv_seg.weight.grad[C].abs().sum() > 0
