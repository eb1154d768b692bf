"""Walk the dicts of a config tree (a model config, a pipeline)."""
from typing import Any, Iterator, Tuple


def config_dicts(node: Any, key: str = '') -> Iterator[Tuple[str, dict]]:
    """Every dict in ``node`` (itself included), depth first, with its
    dotted key in ``--cfg-options`` syntax (list items by index).

    Args:
        node: A dict, list or tuple (a ``ConfigDict`` is a dict); anything
            else holds no dict.
        key: The dotted key of ``node`` itself, e.g. ``'model'``.

    Yields:
        tuple[str, dict]: ``(key, the dict)``; the dict may be changed in
        place while walking (its items are read before descending).
    """
    if isinstance(node, dict):
        yield key, node
        items = list(node.items())
    elif isinstance(node, (list, tuple)):
        items = list(enumerate(node))
    else:
        return
    for name, value in items:
        yield from config_dicts(value, f'{key}.{name}' if key else str(name))
