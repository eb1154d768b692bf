"""Install mmseg_be, an MMSegmentation 1.x plugin for pixel-level OOD segmentation.

Configs and tools travel inside the package as ``mmseg_be/.mim/{configs,tools}``
(the layout MMSeg itself uses), so they are usable from an installed package
as well as from a checkout: copies for a regular install, symlinks for an
editable one.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_ITEMS = ('configs', 'tools')


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmseg_be', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension() -> None:
    """Place configs/ and tools/ under mmseg_be/.mim for packaging."""
    editable = any(cmd in sys.argv for cmd in ('develop', 'editable_wheel'))
    packaging = any(cmd in sys.argv for cmd in (
        'install', 'bdist_wheel', 'sdist', 'build', 'build_py'))
    if not (editable or packaging):
        return
    mim_dir = osp.join(HERE, 'mmseg_be', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for item in MIM_ITEMS:
        src = osp.join(HERE, item)
        dst = osp.join(mim_dir, item)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if editable:
            os.symlink(osp.relpath(src, mim_dir), dst)
        else:
            # The demo (demo/ and its shims tools/demo.py, demo_study.py)
            # is an example that runs from a checkout, not part of the
            # installed library; its configs are (they are plain configs).
            skip = ('demo.py', 'demo_study.py') if item == 'tools' else ()
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc', *skip))


# Ranges a GPU user can live with; requirements/cpu.txt pins a set known to
# work on a CPU-only machine. mmcv is not a plain requirement: mmcv-lite and
# full mmcv both provide the `mmcv` module, and a GPU user who built full mmcv
# must not get mmcv-lite installed over it. CPU users ask for mmcv-lite with
# the `cpu` extra; GPU users install full mmcv first (see docs/install.md).
# Without either, `import mmseg_be` raises an ImportError naming both.
INSTALL_REQUIRES = [
    'torch>=1.12',
    'mmengine>=0.10.0,<1.0.0',
    'mmsegmentation>=1.2.0,<1.3.0',
    'numpy>=1.22',
    'opencv-python>=4.5',
    'ftfy',
    'regex',
    'pycocotools>=2.0.6',
    'h5py>=3.0',
    'matplotlib>=3.7',  # legend loc='outside ...'
    'scipy>=1.8',
    'tqdm>=4.60',
]

EXTRAS_REQUIRE = {
    # mmseg 1.2.x accepts mmcv >=2.0.0rc4,<2.2.0; 2.1.0 is the tested one.
    'cpu': ['mmcv-lite==2.1.0'],
    'tests': ['pytest>=7', 'scikit-learn>=1.2'],
}

CONSOLE_SCRIPTS = [
    'mmseg-be-train=mmseg_be.cli.train:main',
    'mmseg-be-test=mmseg_be.cli.test:main',
    'mmseg-be-export=mmseg_be.cli.export:main',
    'mmseg-be-visualize=mmseg_be.cli.visualize:main',
    'mmseg-be-estimate-prior=mmseg_be.cli.estimate_prior:main',
    'mmseg-be-prepare-coco-outliers=mmseg_be.cli.prepare_coco_outliers:main',
    'mmseg-be-convert-checkpoint=mmseg_be.cli.convert_checkpoint:main',
    'mmseg-be-check-datasets=mmseg_be.cli.check_datasets:main',
]

if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmseg_be',
        version=read_version(),
        description=('Balanced energy regularization loss and pixel-level '
                     'OOD evaluation for MMSegmentation 1.x'),
        long_description=open(osp.join(HERE, 'README.md')).read()
        if osp.exists(osp.join(HERE, 'README.md')) else '',
        long_description_content_type='text/markdown',
        python_requires='>=3.8',
        packages=find_packages(exclude=('tests', 'tests.*', 'configs',
                                        'tools', 'benchmarks', 'demo',
                                        'demo.*')),
        include_package_data=True,
        package_data={'mmseg_be': ['.mim/configs/**/*', '.mim/tools/*']},
        install_requires=INSTALL_REQUIRES,
        extras_require=EXTRAS_REQUIRE,
        entry_points={'console_scripts': CONSOLE_SCRIPTS},
        license='Apache-2.0',
        license_files=['LICENSE'],
        zip_safe=False,
    )
