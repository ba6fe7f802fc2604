"""Who may see and change what, written once and used by every view."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


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
