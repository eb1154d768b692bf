"""The class-prior reader and its use by BalancedEnergyLoss."""
import json

import pytest
import torch

from mmseg_be.models.losses import (NAMED_PRIORS, BalancedEnergyLoss,
                                    load_prior_file, resolve_prior)


def write_prior(path, prior, class_names=None, counts=None):
    data = dict(prior=prior, counts=counts or [100 * p for p in prior],
                class_names=class_names, num_samples=3, num_pixels=1000,
                mode='argmax', config='cfg.py', checkpoint='ckpt.pth')
    path.write_text(json.dumps(data))
    return str(path)


def test_released_prior_is_the_spec_list():
    prior = list(NAMED_PRIORS['cityscapes-coco-released'])
    assert len(prior) == 19
    assert prior[0] == 0.1525 and prior[11] == 0.1531 and prior[-1] == 0.0094
    assert sum(prior) == pytest.approx(1.0001)


def test_list_prior_is_normalised():
    resolved = resolve_prior([2, 1, 1])
    assert resolved.values == [0.5, 0.25, 0.25]
    assert resolve_prior(None) is None


def test_file_prior_equals_list_prior(tmp_path):
    names = ['road', 'sky', 'car']
    path = write_prior(tmp_path / 'prior.json', [0.6, 0.3, 0.1], names)
    loaded = load_prior_file(path)
    assert loaded.values == pytest.approx([0.6, 0.3, 0.1])
    assert loaded.class_names == names
    logits = torch.randn(1, 3, 4, 4) * 3
    label = torch.tensor([[0, 1, 2, 254]] * 4).unsqueeze(0)
    from_file = BalancedEnergyLoss(prior=path, class_names=names)
    from_list = BalancedEnergyLoss(prior=[0.6, 0.3, 0.1])
    assert from_file(logits, label).item() == pytest.approx(
        from_list(logits, label).item())
    assert from_file.class_names == names
    assert 'prior' not in from_file.state_dict()


def test_prior_file_errors(tmp_path):
    path = write_prior(tmp_path / 'p.json', [0.5, 0.5], ['a', 'b'])
    with pytest.raises(ValueError, match=r"\(1, 'b', 'c'\)"):
        BalancedEnergyLoss(prior=path, class_names=['a', 'c'])
    with pytest.raises(ValueError, match='class_names has 3 entries'):
        BalancedEnergyLoss(prior=path, class_names=['a', 'b', 'c'])
    with pytest.raises(FileNotFoundError, match='missing.json'):
        BalancedEnergyLoss(prior=str(tmp_path / 'missing.json'))
    broken = tmp_path / 'broken.json'
    broken.write_text('{"prior": [0.5, ')
    with pytest.raises(ValueError, match='not valid JSON'):
        load_prior_file(str(broken))
    nokey = tmp_path / 'nokey.json'
    nokey.write_text('{"counts": [1, 2]}')
    with pytest.raises(ValueError, match='"prior" key'):
        load_prior_file(str(nokey))
    mismatch = write_prior(tmp_path / 'm.json', [0.5, 0.5], counts=[1, 2, 3])
    with pytest.raises(ValueError, match='"counts" has 3 entries'):
        load_prior_file(mismatch)
    negative = write_prior(tmp_path / 'n.json', [0.5, -0.5, 1.0])
    with pytest.raises(ValueError, match='n.json'):
        load_prior_file(negative)
    with pytest.raises(ValueError, match='num_classes=3'):
        BalancedEnergyLoss(prior=[0.5, 0.5], num_classes=3)


def test_prior_file_not_summing_to_one_warns_with_file_and_sum(tmp_path):
    import warnings

    from mmseg_be.models.losses.prior import PriorSumWarning
    path = write_prior(tmp_path / 'counts.json', [2.0, 1.0, 1.0])
    with pytest.warns(PriorSumWarning, match=r'counts\.json.*sum to 4,'):
        loaded = load_prior_file(path)
    assert loaded.values == [0.5, 0.25, 0.25]  # then normalised
    # Rounding (the released list sums to 1.0001) and exact files are quiet.
    for prior in (list(NAMED_PRIORS['cityscapes-coco-released']), [0.6, 0.3, 0.1]):
        path = write_prior(tmp_path / 'ok.json', prior)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            load_prior_file(path)


# Typed from the method spec (the released code's hard-coded list), not
# copied from the package.
SPEC_RELEASED_PRIOR = [
    0.1525, 0.0133, 0.1067, 0.0401, 0.0339, 0.0053, 0.0011, 0.0280, 0.0802,
    0.0980, 0.0022, 0.1531, 0.0292, 0.0871, 0.1199, 0.0160, 0.0071, 0.0170,
    0.0094]


def test_released_prior_by_name_is_the_spec_list():
    assert list(NAMED_PRIORS['cityscapes-coco-released']) == \
        SPEC_RELEASED_PRIOR
    resolved = resolve_prior('cityscapes-coco-released')
    assert resolved.source == 'cityscapes-coco-released'
    assert resolved.class_names is None
    assert resolved.values == resolve_prior(SPEC_RELEASED_PRIOR).values
    by_name = BalancedEnergyLoss(prior='cityscapes-coco-released')
    by_list = BalancedEnergyLoss(prior=SPEC_RELEASED_PRIOR)
    assert torch.equal(by_name.prior, by_list.prior)
    logits = torch.randn(1, 19, 4, 4) * 3
    label = torch.tensor([[0, 5, 11, 254]] * 4).unsqueeze(0)
    assert by_name(logits, label).item() == by_list(logits, label).item()


def test_unknown_prior_name_lists_the_known_names(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match='cityscapes-coco-released') as err:
        BalancedEnergyLoss(prior='cityscapes-coco')
    assert 'file cityscapes-coco does not exist' in str(err.value)
    # A string that is not a name is still a file path.
    path = write_prior(tmp_path / 'p.json', [0.5, 0.5])
    assert resolve_prior(path).source == path


def test_missing_prior_file_names_the_command_that_writes_it(tmp_path):
    path = str(tmp_path / 'priors' / 'model.json')
    for build in (lambda: BalancedEnergyLoss(prior=path),
                  lambda: load_prior_file(path)):
        with pytest.raises(FileNotFoundError) as err:
            build()
        assert str(err.value).endswith(
            'python tools/estimate_prior.py CONFIG CHECKPOINT '
            f'--prior-file {path}')
