import math

import pytest

from mmseg_be.utils.table import format_table


def test_text_table_pads_and_right_aligns_numbers():
    text = format_table(['name', 'AP'], [['a', 1.0], ['long', None]])
    assert text.splitlines() == [
        'name |   AP',
        '-----+-----',
        'a    | 1.00',
        'long |    -',
    ]


def test_markdown_table_marks_numeric_columns():
    text = format_table(['bench', 'method', 'AP'],
                        [['fs', 'energy', math.nan], ['fs', 'max', 12.345]],
                        style='markdown', numeric_from=2)
    assert text.splitlines() == [
        '| bench | method | AP |',
        '| --- | --- | ---: |',
        '| fs | energy | - |',
        '| fs | max | 12.35 |',
    ]


def test_bad_rows_and_styles_are_refused():
    with pytest.raises(ValueError, match='2 cells, the header 3'):
        format_table(['a', 'b', 'c'], [[1, 2]])
    with pytest.raises(ValueError, match="'html'"):
        format_table(['a'], [[1]], style='html')
