"""A corrupt, truncated or foreign checkpoint is an error that names the file
and what is wrong, in every tool and in the API, before any work starts.

The bad files are made by hand (cut in half, text, a zip of something else,
a pickled list, a dict without weights), each with the words its message
must hold.
"""
import io
import os
import zipfile

import pytest
import torch

import mmseg_be  # noqa: F401  (registers the package)
from mmseg_be.apis import AnomalyInferencer
from mmseg_be.engine.checkpoint_fit import (CheckpointReadError,
                                            read_checkpoint)
from tests.helpers import write_toy_ood_checkpoint


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return write_toy_ood_checkpoint(str(tmp_path_factory.mktemp('toy')))


def half_of(toy, tmp_path):
    data = open(toy['checkpoint'], 'rb').read()
    path = tmp_path / 'cut.pth'
    path.write_bytes(data[:len(data) // 2])
    return str(path)


def zip_without_pickle() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('weights.txt', 'not a torch checkpoint')
    return buffer.getvalue()


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize('content,words', [
    (b'', 'empty file'),
    (b'weights: none\n' * 20, 'neither the zip format'),
    (zip_without_pickle(), 'without the data.pkl'),
    (saved([1, 2, 3]), 'holds a list'),
    (saved({'epoch': 3, 'meta': {}}), 'holds no weights'),
])
def test_foreign_or_empty_files_are_named(tmp_path, content, words):
    path = tmp_path / 'model.pth'
    path.write_bytes(content)
    with pytest.raises(CheckpointReadError) as info:
        read_checkpoint(str(path))
    assert str(info.value).startswith(f'{path}: ')
    assert words in str(info.value)


def test_truncated_and_missing(toy, tmp_path):
    cut = half_of(toy, tmp_path)
    with pytest.raises(CheckpointReadError, match='truncated') as info:
        read_checkpoint(cut)
    assert str(info.value).startswith(f'{cut}: not a readable PyTorch')
    with pytest.raises(FileNotFoundError, match='does not exist'):
        read_checkpoint(str(tmp_path / 'missing.pth'))
    # The intact file reads, weights and all.
    assert 'state_dict' in read_checkpoint(toy['checkpoint'])


def test_api_names_a_truncated_checkpoint(toy, tmp_path):
    cut = half_of(toy, tmp_path)
    with pytest.raises(CheckpointReadError) as info:
        AnomalyInferencer(toy['config'], cut, 'cpu')
    assert cut in str(info.value) and 'truncated' in str(info.value)


def test_tools_name_a_truncated_checkpoint_before_any_work(
        toy, tmp_path, capsys):
    from mmseg_be.cli import export, test, train, visualize
    cut = half_of(toy, tmp_path)

    def error_of(code):
        err = capsys.readouterr().err
        assert code == 2, err
        assert cut in err and 'truncated' in err, err
        return err

    show_dir = tmp_path / 'heat'
    error_of(visualize.main([toy['config'], cut, toy['images'],
                             '--show-dir', str(show_dir)]))
    assert not show_dir.exists()
    submission = tmp_path / 'submission'
    error_of(export.main([toy['config'], cut, '--submission',
                          str(submission), '--method', 'm', '--images',
                          toy['images'], '--dataset-name',
                          'AnomalyTrack-all']))
    assert not submission.exists()
    work_dir = tmp_path / 'work'
    with pytest.raises(SystemExit) as exit_info:
        test.main([toy['config'], cut, '--work-dir', str(work_dir)])
    error_of(exit_info.value.code)
    assert not work_dir.exists()
    # --resume starts from the work dir's latest checkpoint.
    resume_dir = tmp_path / 'resume'
    resume_dir.mkdir()
    (resume_dir / 'last_checkpoint').write_text(cut)
    with pytest.raises(SystemExit) as exit_info:
        train.main([toy['config'], '--work-dir', str(resume_dir),
                    '--resume'])
    error_of(exit_info.value.code)
    assert sorted(os.listdir(resume_dir)) == ['last_checkpoint']
