"""Values every page's layout needs."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import iri_to_uri
from django.utils.translation import get_language, override


def language_switch(request):
    """A link to this same page, with the same search, in each other language (the language lives in the address)."""
    current = get_language()
    return {
        "other_languages": [
            {"code": code, "name": name, "url": this_page_in(request, code)}
            for code, name in settings.LANGUAGES
            if code != current
        ]
    }


def this_page_in(request, language):
    """This page's address in language, rebuilt by the site's own URL patterns, with the search kept; that
    language's front page when the address is none of the site's (the 404 page).

    The path a visitor sent is never copied into the link: `//other.example/en/`, `/\\other.example/` or
    `/%2Fother.example/` all reach the 404 page, and browsers read a link that begins with two slashes or
    backslashes as the address of another host. A path from reverse() never begins so (it writes `/%2F` for a
    leading `//` and `%5C` for a backslash), and the query string after it cannot change the host.
    """
    # The address as Django resolved it for this request: none on the 404 page of an unknown address.
    match = request.resolver_match
    with override(language):
        try:
            path = reverse(match.view_name, args=match.args, kwargs=match.kwargs) if match else None
        except NoReverseMatch:
            path = None
        if path is None:
            return reverse("directory:home")
    # As request.get_full_path() keeps it: the search, unchanged.
    query = iri_to_uri(request.META.get("QUERY_STRING", ""))
    return f"{path}?{query}" if query else path
