"""Who may see and change what, written once and used by every view."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from counties.models import County, Municipality
from directory.models import PeerSupporter
from tallies.models import MonthlyTally
from training.models import Attendance


def own_supporter(user):
    """The peer supporter listing that belongs to this account, if any."""
    return getattr(user, "supporter", None) if user.is_authenticated else None


def supporter_required(view):
    """A view for a logged-in supporter about their own listing: it gets the listing as `supporter`.

    There is no id in these addresses to guess: a supporter can only ever reach their own listing.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        supporter = own_supporter(request.user)
        if supporter is None:
            raise Http404("This account has no listing.")
        return view(request, *args, supporter=supporter, **kwargs)

    return wrapper


# Staff scope: the one place that decides which counties, supporters, counts and training records a staff member
# may see and change. The admin, the staff pages, import and export all ask here.


def is_roster_staff(user):
    """A national administrator or a county coordinator (second factor enforced by the middleware)."""
    return user.is_authenticated and user.is_active and (user.is_administrator or user.is_coordinator)


def counties_in_scope(user):
    if not is_roster_staff(user):
        return County.objects.none()
    if user.is_administrator:
        return County.objects.all()
    return County.objects.filter(coordinators=user)


def municipalities_in_scope(user):
    return Municipality.objects.filter(county__in=counties_in_scope(user))


def supporters_in_scope(user):
    if is_roster_staff(user) and user.is_administrator:
        return PeerSupporter.objects.all()
    return PeerSupporter.objects.filter(municipality__county__in=counties_in_scope(user))


def tallies_in_scope(user):
    return MonthlyTally.objects.filter(supporter__in=supporters_in_scope(user))


def attendances_in_scope(user):
    return Attendance.objects.filter(supporter__in=supporters_in_scope(user))


def may_edit_reference_data(user):
    """Counties, municipalities, specialties, languages, training meetings and closed months: administrators only."""
    return is_roster_staff(user) and user.is_administrator
