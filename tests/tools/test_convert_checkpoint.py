"""tools/convert_checkpoint.py refuses what is not a released checkpoint,
names the file, exits 2 and writes nothing. (Conversions of files with the
released names and shapes: tests/models/test_released_checkpoints.py and,
through this tool, tests/models/test_deepwv3plus_configs.py.)"""
import argparse

import pytest
import torch

from mmseg_be.cli.convert_checkpoint import main as convert


def run(capsys, *argv):
    code = convert([str(a) for a in argv])
    return code, capsys.readouterr().err


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save({'state_dict': {'conv1.weight': torch.zeros(4, 3, 3, 3)}},
               path)
    return path


def test_missing_and_empty_files(tmp_path, capsys):
    dst = tmp_path / 'out.pth'
    code, err = run(capsys, tmp_path / 'nope.pth', dst)
    assert code == 2 and 'nope.pth: no such file' in err
    (tmp_path / 'empty.pth').write_bytes(b'')
    code, err = run(capsys, tmp_path / 'empty.pth', dst)
    assert code == 2 and 'empty.pth: empty file' in err
    assert not dst.exists()


@pytest.mark.parametrize('content', ['half', 'text'])
def test_truncated_or_foreign_format(tmp_path, capsys, small_file, content):
    bad = tmp_path / 'bad.pth'
    data = small_file.read_bytes()
    bad.write_bytes(data[:len(data) // 2] if content == 'half' else
                    b'model: wrn38\nweights: none\n' * 10)
    code, err = run(capsys, bad, tmp_path / 'out.pth')
    assert code == 2
    assert err.startswith(f'{bad}: not a readable PyTorch checkpoint')
    assert not (tmp_path / 'out.pth').exists()


def test_a_foreign_network_is_refused_by_name(tmp_path, capsys, small_file):
    code, err = run(capsys, small_file, tmp_path / 'out.pth')
    assert code == 2
    assert str(small_file) in err and "'conv1.weight'" in err
    assert 'not part of the released DeepWV3Plus' in err
    assert not (tmp_path / 'out.pth').exists()


def test_pickled_objects_need_trust(tmp_path, capsys):
    path = tmp_path / 'with_args.pth'
    torch.save({'state_dict': {'conv1.weight': torch.zeros(1)},
                'args': argparse.Namespace(arch='network.deepv3')}, path)
    code, err = run(capsys, path, tmp_path / 'out.pth')
    assert code == 2 and '--trust-pickle' in err
    # Trusted, it is read, and then refused for what it holds.
    code, err = run(capsys, path, tmp_path / 'out.pth', '--trust-pickle')
    assert code == 2 and 'not part of the released DeepWV3Plus' in err


def test_an_existing_output_is_kept(tmp_path, capsys, small_file):
    dst = tmp_path / 'out.pth'
    dst.write_bytes(b'previous')
    code, err = run(capsys, small_file, dst)
    assert code == 2 and '--overwrite' in err
    assert dst.read_bytes() == b'previous'
    code, err = run(capsys, small_file, small_file, '--overwrite')
    assert code == 2 and 'same file' in err


def test_help_names_the_sources(capsys):
    with pytest.raises(SystemExit) as exit_info:
        convert(['--help'])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in ('nvidia', 'pebal', 'balanced-energy', '--add-abstention'):
        assert word in out
