"""Open data: the public roster as JSON, with the search's filters and order, and the page that documents it.

Field names follow Open Referral HSDS where they fit. Only what the public profile page shows goes out, and like
every public view this one answers GET and HEAD only, sets no cookie, writes nothing and logs nothing.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from directory.filters import SupporterFilter
from directory.models import PeerSupporter
from directory.views import page_of

# The whole roster (about ninety supporters) fits on one page at the largest size.
MAX_PAGE_SIZE = 100


def page_size(raw_size):
    """The requested number of supporters per page, and a message when it could not be honoured as asked."""
    default = settings.DIRECTORY_PAGE_SIZE
    if raw_size in (None, ""):
        return default, None
    try:
        size = int(raw_size)
    except ValueError:
        return default, _("“%(value)s” is not a page size, so pages of %(size)d are given.") % {
            "value": raw_size[:20],
            "size": default,
        }
    if size < 1:
        return default, _("Page sizes start at 1, so pages of %(size)d are given.") % {"size": default}
    if size > MAX_PAGE_SIZE:
        return MAX_PAGE_SIZE, _("A page holds at most %(size)d supporters.") % {"size": MAX_PAGE_SIZE}
    return size, None


def bilingual(item):
    return {"nb": item.name_nb, "en": item.name_en}


def absolute_urls(request, name, **kwargs):
    """The page's address in each language of the site."""
    urls = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            urls[code] = request.build_absolute_uri(reverse(name, kwargs=kwargs))
    return urls


def supporter_data(request, supporter, today):
    """What the supporter's public profile page shows, and nothing more."""
    phone, until = supporter.public_phone, supporter.until_on(today)
    distance = getattr(supporter, "distance_km", None)
    return {
        "id": supporter.pk,
        "name": supporter.name,
        "title": supporter.title,
        # HSDS status: everyone in the public roster is an active service; whether they take new contacts now is
        # the availability.
        "status": "active",
        "availability": {
            "status": supporter.availability_on(today).value,
            "until": until.isoformat() if until else None,
        },
        "description": supporter.note,
        "specialties": [
            {"slug": specialty.slug, "name": bilingual(specialty)} for specialty in supporter.specialties.all()
        ],
        "languages": [{"code": language.code, "name": bilingual(language)} for language in supporter.languages.all()],
        "service_area": {
            "town": supporter.town,
            "municipality": {"number": supporter.municipality.number, "name": supporter.municipality.name},
            "county": {"number": supporter.county.number, "name": supporter.county.name},
        },
        "contact": {
            "phone": phone.as_e164 if phone else None,
            "phone_national": phone.as_national if phone else None,
            "email": supporter.public_email or None,
        },
        "meeting_modes": [mode.value for mode in supporter.modes],
        "evenings": supporter.evenings,
        "weekends": supporter.weekends,
        "last_assured_date": supporter.last_confirmed.isoformat() if supporter.last_confirmed else None,
        # Only with a municipality chosen, rounded as the search shows it ("about N km away").
        "distance_km": round(distance) if distance is not None else None,
        "url": absolute_urls(request, "directory:supporter", pk=supporter.pk),
    }


@require_safe
def roster(request):
    """The public roster as JSON: the search's parameters, filters and order, paged."""
    search = SupporterFilter(request.GET, queryset=PeerSupporter.objects.listed())
    size, size_message = page_size(request.GET.get("per_page"))
    page, page_message = page_of(search.qs, request.GET.get("page"), size, reference_data=search.reference)
    # As on the search page, a part of the request that cannot be understood is left out, and the answer says so.
    notices = [str(error) for errors in search.form.errors.values() for error in errors]
    notices += [message for message in (size_message, page_message) if message]
    paginator = page.paginator
    contents = [supporter_data(request, supporter, search.today) for supporter in page.object_list]
    response = JsonResponse(
        {
            "total_items": paginator.count,
            "total_pages": paginator.num_pages,
            "page_number": page.number,
            "size": size,
            "first_page": page.number == 1,
            "last_page": page.number == paginator.num_pages,
            "empty": not contents,
            "notices": notices,
            "contents": contents,
        },
        json_dumps_params={"ensure_ascii": False},
    )
    # The ETag is a hash of the body, so it changes exactly when the answer does (including the daily order).
    set_response_etag(response)
    response = get_conditional_response(request, etag=response.headers["ETag"], response=response)
    # Public data without credentials, for the association's own website on another origin. A CORS read is not
    # subject to Cross-Origin-Resource-Policy, so the middleware's "same-origin" stays.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def open_data(request):
    context = {
        "roster_url": request.build_absolute_uri(reverse("api:roster")),
        "search_url": reverse("directory:search"),
        "privacy_url": reverse("directory:privacy"),
        "default_page_size": settings.DIRECTORY_PAGE_SIZE,
        "max_page_size": MAX_PAGE_SIZE,
    }
    return render(request, "directory/open_data.html", context)
