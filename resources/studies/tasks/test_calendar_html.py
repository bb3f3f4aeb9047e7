import inspect

import calendar_html
from calendar_html import formatday, formatweek, formatweekday


def test_cells():
    assert formatday(0, 3) == '<td class="noday">&nbsp;</td>'
    assert formatday(12, 2) == '<td class="wed">12</td>'
    assert formatweekday(6) == '<th class="sun">Sun</th>'
    assert formatweek([(1, 0), (0, 1)]) == '<tr><td class="mon">1</td><td class="noday">&nbsp;</td></tr>'


def test_fstrings():
    assert "%" not in inspect.getsource(calendar_html.formatday)
