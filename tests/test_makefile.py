"""The Makefile's choice of torch build, run through make itself.

``make venv`` installs torch from PyTorch's CPU wheel index when that index
answers, falls back to pip's default index (with a warning) when it does not
answer in time, and takes another index from ``TORCH_INDEX_URL``. The venv's
python is replaced by a stub that records its arguments, so the recipe runs
exactly as written without installing anything; the indexes are local
servers (one that serves torch, one without it, one that never answers).
"""
import http.server
import os
import os.path as osp
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
pytestmark = pytest.mark.skipif(shutil.which('make') is None,
                                reason='needs make')


def torch_pin() -> str:
    """The torch requirement as requirements/cpu.txt writes it."""
    with open(osp.join(ROOT, 'requirements', 'cpu.txt')) as f:
        (pin, ) = [line.split('#')[0].strip() for line in f
                   if re.match(r'torch\s*==', line)]
    return pin.replace(' ', '')


class _Index(http.server.BaseHTTPRequestHandler):
    """A simple index that lists torch (or, with has_torch False, not)."""
    has_torch = True

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path.rstrip('/').endswith('/torch') and self.has_torch:
            body = b'<a href="torch-0-none-any.whl">torch</a>'
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def index_server():
    servers = []

    def start(has_torch: bool = True) -> str:
        handler = type('Handler', (_Index, ), dict(has_torch=has_torch))
        server = http.server.HTTPServer(('127.0.0.1', 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f'http://127.0.0.1:{server.server_port}/simple'

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_server():
    """Accepts connections (backlog) but never answers a request."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(8)
    yield f'http://127.0.0.1:{sock.getsockname()[1]}/whl/cpu'
    sock.close()


def make(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != 'MAKEFLAGS'}
    return subprocess.run(['make', '-s', '--no-print-directory', *args],
                          cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def stub_venv(tmp_path) -> str:
    """A venv whose python only appends its arguments to calls.txt."""
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    python = venv / 'bin' / 'python'
    python.write_text('#!/bin/sh\necho "$*" >> "$(dirname "$0")/calls.txt"\n')
    python.chmod(0o755)
    return str(venv)


def pip_calls(venv: str) -> list:
    with open(osp.join(venv, 'bin', 'calls.txt')) as f:
        return f.read().splitlines()


def test_reachable_index_is_used(index_server):
    url = index_server()
    proc = make('torch-index-args', f'TORCH_INDEX_URL={url}')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['--index-url', url]
    assert proc.stderr == ''


def test_index_without_torch_falls_back(index_server):
    url = index_server(has_torch=False)
    proc = make('torch-index-args', f'TORCH_INDEX_URL={url}')
    assert proc.returncode == 0
    assert proc.stdout.strip() == ''
    assert 'TORCH_INDEX_URL' in proc.stderr and url in proc.stderr


def test_silent_index_times_out_instead_of_hanging(silent_server):
    start = time.monotonic()
    proc = make('torch-index-args', f'TORCH_INDEX_URL={silent_server}',
                'TORCH_PROBE_TIMEOUT=2')
    elapsed = time.monotonic() - start
    assert proc.returncode == 0
    assert proc.stdout.strip() == ''
    assert 'could not be reached within 2 s' in proc.stderr
    # 2 s of probe plus a Python start, far from pip's 180 s retries.
    assert 2 <= elapsed < 15, elapsed


def test_empty_url_means_pips_own_configuration():
    proc = make('torch-index-args', 'TORCH_INDEX_URL=')
    assert proc.returncode == 0
    assert (proc.stdout, proc.stderr) == ('', '')


def test_venv_recipe_installs_torch_first_from_the_index(tmp_path,
                                                         index_server):
    url = index_server()
    venv = stub_venv(tmp_path)
    proc = make('venv', f'VENV={venv}', f'TORCH_INDEX_URL={url}')
    assert proc.returncode == 0, proc.stderr
    calls = pip_calls(venv)
    assert calls[1] == f'-m pip install --quiet --index-url {url} {torch_pin()}'
    # The pinned set afterwards finds torch installed (same pin).
    assert '-r requirements/cpu.txt' in calls[2]
    assert calls[3].endswith('-e .')
    assert osp.isfile(osp.join(venv, '.mmseg_be-installed'))


def test_venv_recipe_falls_back_without_hanging(tmp_path, silent_server):
    venv = stub_venv(tmp_path)
    proc = make('venv', f'VENV={venv}', f'TORCH_INDEX_URL={silent_server}',
                'TORCH_PROBE_TIMEOUT=1')
    assert proc.returncode == 0, proc.stderr
    assert pip_calls(venv)[1] == f'-m pip install --quiet {torch_pin()}'
    assert 'warning:' in proc.stderr


def test_torch_pin_is_exact():
    # An unpinned torch would pull whatever build the index holds newest.
    assert re.fullmatch(r'torch==\d+\.\d+\.\d+', torch_pin())
