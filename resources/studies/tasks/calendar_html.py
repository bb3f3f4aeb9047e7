"""HTML calendar cells.

From the Python standard library's calendar.py (HTMLCalendar, Python 3.11), PSF licence.
"""

day_abbr = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
cssclasses = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def formatday(day, weekday):
    if day == 0:
        return '<td class="noday">&nbsp;</td>'
    else:
        return '<td class="%s">%d</td>' % (cssclasses[weekday], day)


def formatweekday(day):
    return '<th class="%s">%s</th>' % (cssclasses[day], day_abbr[day])


def formatweek(theweek):
    s = ''.join(formatday(d, wd) for (d, wd) in theweek)
    return '<tr>%s</tr>' % s
