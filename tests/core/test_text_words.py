"""The words every page writes the same way: durations, counts, and AWS's long decimals."""

from __future__ import annotations

from core.text import count, duration, readable_numbers


def test_durations_counts_and_long_decimals_read_as_a_person_writes_them():
    assert duration(540 * 60) == "9 h" and duration(3900) == "1 h 5 min" and duration(0) == "0 s"
    assert count(1, "instance") == "1 instance" and count(3, "instance") == "3 instances"
    reason = "Threshold Crossed: 1 datapoint [0.17857142857142858 (04/12/26 06:11:00)]"
    assert readable_numbers(reason) == "Threshold Crossed: 1 datapoint [0.1786 (04/12/26 06:11:00)]"
    assert readable_numbers("version 1.2.3 and 0.05 stay") == "version 1.2.3 and 0.05 stay"
