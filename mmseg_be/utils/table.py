"""The one table printer: plain text for terminals and logs, Markdown for
reports and docs.

Hand-written rather than prettytable: the two layouts below are what the
logs, the demo report and the docs already show, and each is a few lines.
"""
import math
from typing import Any, List, Sequence

__all__ = ['format_cell', 'format_table']


def format_cell(value: Any, digits: int = 2) -> str:
    """One cell: floats with ``digits`` decimals, ``None`` and NaN as ``-``.

    Args:
        value: The value to show.
        digits: Decimals of float values.

    Returns:
        str: The cell's text.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def format_table(header: Sequence[str],
                 rows: Sequence[Sequence[Any]],
                 style: str = 'text',
                 digits: int = 2,
                 numeric_from: int = 1) -> str:
    """Render rows under a header.

    Args:
        header: Column titles.
        rows: One sequence of values per row, as long as ``header``.
        style: ``'text'`` (columns padded, ``' | '`` between them, a
            ``-+-`` rule under the header) or ``'markdown'`` (a GitHub
            table; columns from ``numeric_from`` on are right-aligned).
        digits: Decimals of float values.
        numeric_from: First column index that holds numbers (right-aligned).

    Returns:
        str: The table, lines joined by newlines, no trailing newline.

    Raises:
        ValueError: A row's length differs from the header's, or an unknown
            style.
    """
    cells: List[List[str]] = [list(map(str, header))]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f'a table row has {len(row)} cells, the header '
                             f'{len(header)}: {list(row)!r}')
        cells.append([format_cell(v, digits) for v in row])
    if style == 'markdown':
        rule = ['---' if i < numeric_from else '---:'
                for i in range(len(header))]
        lines = [cells[0], rule] + cells[1:]
        return '\n'.join('| ' + ' | '.join(line) + ' |' for line in lines)
    if style != 'text':
        raise ValueError(f"style must be 'text' or 'markdown', got {style!r}")
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]

    def _line(line: Sequence[str]) -> str:
        padded = [cell.ljust(w) if i < numeric_from else cell.rjust(w)
                  for i, (cell, w) in enumerate(zip(line, widths))]
        return ' | '.join(padded).rstrip()

    lines = [_line(line) for line in cells]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    return '\n'.join(lines)
