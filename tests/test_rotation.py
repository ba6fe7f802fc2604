"""The daily fair order: the same all day, different every day, fair over time, open supporters first."""

import datetime
from collections import Counter

import pytest
from django.utils import timezone

from directory.models import PeerSupporter

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def order_on(day):
    return list(PeerSupporter.objects.listed().in_daily_order(day).values_list("pk", flat=True))


@pytest.fixture
def thirty_open(make_supporter):
    """30 open supporters with fixed ids 1-30.

    The order is a function of the ids, and PostgreSQL sequences do not roll back between tests, so
    fixed ids keep the statistical tests below from depending on which tests ran before them.
    """
    return [make_supporter(id=pk).pk for pk in range(1, 31)]


def test_order_is_the_same_all_day(make_supporter, today):
    supporters = {make_supporter().pk for _ in range(20)}

    first = order_on(today)
    second = order_on(today)
    third = list(PeerSupporter.objects.in_daily_order(today).listed().values_list("pk", flat=True))

    assert set(first) == supporters
    assert first == second == third


def test_order_is_not_the_order_of_creation(thirty_open, today):
    assert order_on(today) != sorted(thirty_open)
    assert order_on(today) != sorted(thirty_open, reverse=True)


def test_order_changes_from_day_to_day(thirty_open, today):
    orders = [tuple(order_on(today + n * DAY)) for n in range(10)]

    assert len(set(orders)) == 10
    # Not just a rotation of one fixed cycle: first place moves around.
    assert len({order[0] for order in orders}) >= 5


def test_over_60_days_everyone_is_on_average_near_the_middle(thirty_open, today):
    count, days = len(thirty_open), 60
    positions = {pk: [] for pk in thirty_open}
    for n in range(days):
        for position, pk in enumerate(order_on(today + n * DAY)):
            positions[pk].append(position)

    middle = (count - 1) / 2
    # A fixed order leaves the first and last supporters 14.5 places from the middle. With a truly random
    # daily shuffle a supporter's 60-day mean position has a standard deviation of about
    # sqrt((30**2 - 1) / 12) / sqrt(60) = 1.1 places, so 20 % of 30 = 6 places is more than five of those.
    tolerance = 0.2 * count
    for pk, seen in positions.items():
        assert len(seen) == days
        assert abs(sum(seen) / days - middle) <= tolerance, (pk, sum(seen) / days)


def test_over_60_days_nobody_is_first_more_than_a_few_times(thirty_open, today):
    firsts = Counter(order_on(today + n * DAY)[0] for n in range(60))

    # Fair share is 2 days. With a truly random daily shuffle the chance that any of the 30 is first
    # on 9 or more of the 60 days is about 0.5 %; a fixed order would put one supporter first 60 times.
    assert max(firsts.values()) <= 8, firsts.most_common(3)
    assert len(firsts) >= 20, "first place should go around"


def test_over_three_years_nobody_is_first_far_more_often_than_their_fair_share(make_supporter, today):
    """Over 1095 days each of 30 supporters should be first on about 36.5 days.

    With a truly random daily shuffle the chance that any of them is first on more than 58 days
    (1.6 times the fair share) is below 1 %. This uses whatever ids the database hands out.
    """
    for _ in range(30):
        make_supporter()
    queryset = PeerSupporter.objects.listed()
    firsts = Counter(queryset.in_daily_order(today + n * DAY).values_list("pk", flat=True)[0] for n in range(1095))

    oldest, newest = min(firsts), max(firsts)
    assert max(firsts.values()) <= 58, (
        f"first on most days (id, days): {firsts.most_common(3)}; "
        f"oldest id {oldest}: {firsts[oldest]} days, newest id {newest}: {firsts[newest]} days, fair share 36.5"
    )


def test_open_supporters_come_before_paused_ones(make_supporter, today):
    open_ = [make_supporter(availability="open").pk for _ in range(8)]
    few_places = [make_supporter(availability="few_places").pk for _ in range(4)]
    few_places_until = [make_supporter(availability="few_places", availability_until=today + DAY).pk for _ in range(2)]
    paused = [
        make_supporter(availability="paused").pk,
        make_supporter(availability="paused").pk,
        make_supporter(availability="paused", availability_until=today + 30 * DAY).pk,
    ]
    available = set(open_ + few_places + few_places_until)

    for n in range(15):
        order = order_on(today + n * DAY)
        assert set(order[: len(available)]) == available
        assert set(order[len(available) :]) == set(paused)


def test_paused_supporters_are_also_rotated_among_themselves(make_supporter, today):
    paused = [make_supporter(availability="paused").pk for _ in range(10)]
    make_supporter(availability="open")

    orders = {tuple(order_on(today + n * DAY)[1:]) for n in range(5)}

    assert all(set(order) == set(paused) for order in orders)
    assert len(orders) > 1


def test_a_pause_that_has_ended_is_ordered_among_the_open(make_supporter, today):
    open_ = [make_supporter(availability="open").pk for _ in range(9)]
    ended = make_supporter(availability="paused", availability_until=today - DAY).pk
    paused = [make_supporter(availability="paused", availability_until=today + 60 * DAY).pk for _ in range(5)]

    positions = []
    for n in range(30):
        order = order_on(today + n * DAY)
        assert set(order[:10]) == {*open_, ended}
        assert set(order[10:]) == set(paused)
        positions.append(order.index(ended))

    # Among the open, not tacked on after them: it takes turns at the front like anyone else.
    assert min(positions) <= 2
    assert len(set(positions)) >= 5


def test_a_pause_ends_after_its_last_day(make_supporter, today):
    make_supporter(availability="open")
    pausing = make_supporter(availability="paused", availability_until=today).pk

    assert order_on(today)[-1] == pausing
    assert order_on(today - DAY)[-1] == pausing
    # From the day after the last day it is open again, so after 20 days it has been first at least once.
    assert any(order_on(today + n * DAY)[0] == pausing for n in range(1, 21))


def test_search_page_shows_todays_order_with_paused_supporters_last(client, make_supporter):
    today = timezone.localdate()
    paused = [make_supporter(availability="paused").pk for _ in range(3)]
    for _ in range(12):
        make_supporter()

    response = client.get("/en/search/")

    shown = [supporter.pk for supporter in response.context["page"].object_list]
    assert shown == order_on(today)
    assert set(shown[-3:]) == set(paused)
