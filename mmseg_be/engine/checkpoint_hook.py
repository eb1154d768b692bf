"""Crash-safe checkpoints: every file the training saves is written whole.

mmengine writes ``iter_N.pth`` / ``best_*.pth`` in place and
``last_checkpoint`` with a plain ``open(..., 'w')``, so a kill in the middle
of a save leaves a truncated file under the final name (a 0-byte or half
checkpoint that ``torch.load`` refuses), and with ``max_keep_ckpts`` the
older checkpoint is deleted *before* the new one is written.
:class:`AtomicCheckpointHook` keeps mmengine's behaviour (interval,
``save_best``, ``max_keep_ckpts``, resume) and
changes only how files reach the disk:

- checkpoints go through :class:`AtomicLocalBackend` (registered as the file
  backend ``'atomic_local'``): temporary name in the same folder, flush,
  fsync, rename;
- ``last_checkpoint`` is written the same way, after the checkpoint it names;
- an old checkpoint beyond ``max_keep_ckpts`` is deleted only once the new
  one is complete;
- temporary files of a killed save are removed when training starts.

Configs select it with
``default_hooks.checkpoint.type='AtomicCheckpointHook'``.
"""
import logging
import os.path as osp
from pathlib import Path
from typing import Optional, Union

import mmengine
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmseg_be.utils.atomic_io import atomic_write_bytes, remove_stale_temps

#: ``backend_args`` that select :class:`AtomicLocalBackend`.
ATOMIC_BACKEND_ARGS = dict(backend='atomic_local')


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with crash-safe ``put``/``put_text``.

    A file is written to a temporary name next to its final path, flushed,
    fsynced and renamed, so at any moment the final name holds either the
    previous complete file or the new complete one. Reading, listing and
    removing are :class:`mmengine.fileio.LocalBackend`'s.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically (folder created)."""
        mmengine.mkdir_or_exist(osp.dirname(osp.abspath(filepath)))
        atomic_write_bytes(str(filepath), obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (folder created)."""
        self.put(obj.encode(encoding), filepath)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` whose files survive a kill.

    Takes the same arguments as ``CheckpointHook``. Unless ``backend_args``
    or ``file_client_args`` is given, or ``out_dir`` is a remote URI
    (``s3://...``), checkpoints are written through
    :class:`AtomicLocalBackend`.

    What survives what (local disk):

    - kill -9 or a crash at any moment: every ``*.pth`` under its final name
      and ``last_checkpoint`` are complete; the checkpoint being written is
      lost (its temporary file is removed at the next start), ``resume``
      continues from the previous one;
    - disk full during a save: the error stops training, the previous
      checkpoints and ``last_checkpoint`` are untouched, no partial file is
      left.

    The one window that remains is mmengine's own for ``save_best``: it
    deletes the previous ``best_*.pth`` just before writing the new best, so
    a kill in between leaves no best file (never a broken one).
    """

    def __init__(self,
                 *args,
                 out_dir: Optional[Union[str, Path]] = None,
                 file_client_args: Optional[dict] = None,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        remote = out_dir is not None and '://' in str(out_dir)
        if backend_args is None and file_client_args is None and not remote:
            backend_args = dict(ATOMIC_BACKEND_ARGS)
        super().__init__(*args, out_dir=out_dir,
                         file_client_args=file_client_args,
                         backend_args=backend_args, **kwargs)

    @property
    def _atomic(self) -> bool:
        return (self.backend_args or {}).get('backend') == 'atomic_local'

    def before_train(self, runner) -> None:
        """Set up as mmengine does, then drop temporaries of a killed save."""
        super().before_train(runner)
        if self._atomic and is_main_process():
            folders = {str(self.out_dir), runner.work_dir}
            for folder in folders:
                if not osp.isdir(folder):
                    continue
                for path in remove_stale_temps(folder, recursive=False):
                    print_log(f'Removed the temporary file of an interrupted '
                              f'checkpoint save: {path}', logger='current',
                              level=logging.WARNING)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """mmengine's step save, reordered so that nothing is lost.

        The checkpoint is written first, then ``last_checkpoint`` (both
        atomically), and only then is a checkpoint beyond ``max_keep_ckpts``
        deleted. ``keep_ckpt_ids`` is updated before the save, as mmengine
        does, so the saved message hub already lists the new step.
        """
        if not self._atomic:
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        drop = None
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                drop = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        self.file_backend.put_text(
            str(self.last_ckpt), osp.join(runner.work_dir, 'last_checkpoint'))
        if drop is not None and drop != step:
            old = self.file_backend.join_path(self.out_dir,
                                              self.filename_tmpl.format(drop))
            if self.file_backend.isfile(old):
                self.file_backend.remove(old)
            elif self.file_backend.isdir(old):
                self.file_backend.rmtree(old)  # deepspeed saves folders
