"""The package's layering (docs/architecture.md): imports point down only,
and no module imports itself through others.

The graph is read from the source with ``ast`` (every ``import`` statement,
including those inside functions), not from ``sys.modules``, so a lazy import
counts like any other.
"""
import ast
import os
import os.path as osp
from typing import Dict, Set

from tests.helpers import REPO

PACKAGE = osp.join(REPO, 'mmseg_be')
# Lowest first. A module may import from its own layer or a lower one.
LAYERS = ('version', 'constants', 'compat', 'utils', 'scoring', 'models',
          'outliers', 'datasets', 'evaluation', 'visualization', 'export',
          'engine', 'apis', 'cli')


def module_name(path: str) -> str:
    rel = osp.relpath(path, REPO)[:-len('.py')].split(os.sep)
    if rel[-1] == '__init__':
        rel = rel[:-1]
    return '.'.join(rel)


def import_graph() -> Dict[str, Set[str]]:
    """Module -> the mmseg_be modules it imports (packages resolved to their
    ``__init__``, ``from pkg import name`` to ``pkg.name`` when that is a
    module)."""
    modules = {}
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(root, name)
                modules[module_name(path)] = path
    graph = {}
    for mod, path in modules.items():
        is_pkg = path.endswith('__init__.py')
        package = mod if is_pkg else mod.rpartition('.')[0]
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split('.')
                    parts = parts[:len(parts) - node.level + 1]
                    base = '.'.join(parts + ([node.module] if node.module
                                             else []))
                else:
                    base = node.module or ''
                names = [base] + [f'{base}.{a.name}' for a in node.names]
            else:
                continue
            targets.update(n for n in names if n in modules and n != mod)
        graph[mod] = targets
    return graph


def layer(mod: str) -> str:
    parts = mod.split('.')
    return parts[1] if len(parts) > 1 else ''


def test_every_subpackage_has_a_layer():
    unknown = {layer(m) for m in import_graph()} - set(LAYERS) - {''}
    assert not unknown, f'add {sorted(unknown)} to LAYERS (and the docs)'


def test_imports_point_down():
    rank = {name: i for i, name in enumerate(LAYERS)}
    rank[''] = rank['cli']  # `import mmseg_be` registers everything
    upward = [
        f'{mod} -> {dep}' for mod, deps in sorted(import_graph().items())
        for dep in sorted(deps)
        if layer(mod) and rank[layer(dep)] > rank[layer(mod)]
    ]
    assert not upward, 'imports from a lower layer up:\n' + '\n'.join(upward)


def test_no_import_cycles():
    graph = import_graph()
    # Package __init__ files re-export their own modules; an edge from a
    # module up to its own package's __init__ plus the __init__'s edge down
    # would be a trivial cycle, so edges into a parent package are dropped.
    graph = {m: {d for d in deps if not m.startswith(d + '.')}
             for m, deps in graph.items()}
    cycles = []
    state: Dict[str, int] = {}  # 1 on the stack, 2 finished
    stack = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, 'import cycles:\n' + '\n'.join(
        ' -> '.join(c) for c in cycles)


def test_the_checker_sees_a_known_edge():
    # The checker itself must be able to see imports: the metric computes
    # scores with the scoring module.
    graph = import_graph()
    assert 'mmseg_be.scoring' in set().union(
        *(deps for mod, deps in graph.items()
          if mod.startswith('mmseg_be.evaluation')))


def test_the_library_never_imports_the_demo():
    """The demo (demo/ of a checkout) is an example beside the library: no
    module of the package imports it, and the package holds none of it."""
    assert not osp.exists(osp.join(PACKAGE, 'demo'))
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(root, name)
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or '']
                else:
                    continue
                assert not any(n == 'demo' or n.startswith('demo.')
                               for n in names), path
