import datetime

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from counties.map import county_map
from counties.models import County
from counties.text import norwegian_sort_key
from directory.filters import REMOTE_KEEPS, SupporterFilter
from directory.models import PeerSupporter
from directory.vcard import supporter_vcard

# The day the accessibility statement was last reviewed; change it with the statement.
ACCESSIBILITY_STATEMENT_DATE = datetime.date(2026, 11, 26)

# Every view here is public: GET and HEAD only, so no form posts, no CSRF cookie, nothing written.


def page_of(queryset, raw_number, size=None):
    """The requested page of results, and a message when the request could not be honoured as asked.

    No number or nonsense gives the first page, a number past the end the last. Also used by the open data.
    """
    paginator = Paginator(queryset, size or settings.DIRECTORY_PAGE_SIZE)
    if raw_number in (None, ""):
        return paginator.page(1), None
    try:
        number = int(raw_number)
    except ValueError:
        return paginator.page(1), _("“%(value)s” is not a page number, so the first page is shown.") % {
            "value": raw_number[:20]
        }
    if number < 1:
        return paginator.page(1), _("Page numbers start at 1, so the first page is shown.")
    if number > paginator.num_pages:
        last = paginator.num_pages
        message = _("There is no page %(number)d; the last page (%(last)d) is shown.")
        return paginator.page(last), message % {"number": number, "last": last}
    return paginator.page(number), None


def remote_search_url(data):
    """The whole-country search for everyone who meets by phone or video, keeping the rest of the search."""
    query = QueryDict(mutable=True)
    for key in REMOTE_KEEPS:
        query.setlist(key, data.getlist(key))
    query.setlist("mode", [PeerSupporter.Mode.PHONE, PeerSupporter.Mode.VIDEO])
    return f"{reverse('directory:search')}?{query.urlencode()}"


def results_context(request, data):
    """Everything a list of search results shows, for the search page and the county pages."""
    supporters = PeerSupporter.objects.listed().for_cards()
    search = SupporterFilter(data, queryset=supporters)
    page, page_message = page_of(search.qs, request.GET.get("page"))
    remote = search.remote_alternatives()
    return {
        "search": search,
        "page": page,
        "page_message": page_message,
        "remote": remote[: settings.DIRECTORY_REMOTE_LIST_SIZE] if remote is not None else None,
        "remote_search_url": remote_search_url(data) if remote is not None else None,
        "today": search.today,
    }


@require_safe
def home(request):
    counties = County.objects.filter(active=True).annotate(
        supporter_count=Count("municipalities__supporters", filter=Q(municipalities__supporters__listed=True))
    )
    counties = sorted(counties, key=lambda county: norwegian_sort_key(county.name))
    context = {"counties": counties, "county_map": county_map(counties), "search": SupporterFilter()}
    return render(request, "directory/home.html", context)


@require_safe
def search(request):
    return render(request, "directory/search.html", results_context(request, request.GET))


@require_safe
def county(request, number):
    county = get_object_or_404(County, number=number, active=True)
    data = request.GET.copy()
    data["county"] = county.number
    context = results_context(request, data)
    return render(request, "directory/county.html", {"county": county, **context})


def listed_supporter(pk):
    return get_object_or_404(PeerSupporter.objects.listed().for_cards(), pk=pk)


@require_safe
def supporter(request, pk):
    return render(
        request,
        "directory/supporter.html",
        {"supporter": listed_supporter(pk), "today": timezone.localdate()},
    )


@require_safe
def supporter_vcard_download(request, pk):
    supporter = listed_supporter(pk)
    response = HttpResponse(supporter_vcard(supporter), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="peer-supporter-{supporter.pk}.vcf"'
    return response


@require_safe
def about(request):
    return render(request, "directory/about.html")


@require_safe
def accessibility(request):
    return render(request, "directory/accessibility.html", {"statement_date": ACCESSIBILITY_STATEMENT_DATE})


@require_safe
def privacy(request):
    # The page names the cookies the logged-in area really sets, read from the settings that name them.
    cookies = [
        (settings.SESSION_COOKIE_NAME, _("Keeps a supporter or staff member logged in, for 8 hours at most.")),
        (settings.CSRF_COOKIE_NAME, _("Protects the forms of the logged-in area against forgery from other sites.")),
    ]
    return render(request, "directory/privacy.html", {"cookies": cookies})
