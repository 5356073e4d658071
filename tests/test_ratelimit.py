"""ratelimit: at most N actions and B bytes per sliding window, with the seconds to wait."""
from playground.ratelimit import RateLimit


def test_the_count_limit_says_when_the_oldest_leaves_the_window():
    limit, history = RateLimit(count=3, size=10**9, window=60), []
    for second in (0, 10, 20):
        assert limit.wait(history, 1, second) == 0
        limit.record(history, 1, second)
    assert limit.wait(history, 1, 30) == 30  # the upload at 0 s leaves the window at 60 s
    assert limit.wait(history, 1, 60) == 0 and len(history) == 2


def test_the_byte_limit_waits_until_enough_bytes_left_the_window():
    limit, history = RateLimit(count=100, size=100, window=60), []
    for second, size in ((0, 40), (5, 40)):
        limit.record(history, size, second)
    assert limit.wait(history, 20, 6) == 0
    assert limit.wait(history, 30, 6) == 54  # 40 + 40 + 30 > 100 until the first leaves
    assert limit.wait(history, 70, 6) == 59  # both must leave
