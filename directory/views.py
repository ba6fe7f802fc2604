import copy
import datetime

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from counties.map import county_map
from directory.filters import REMOTE_KEEPS, SupporterFilter
from directory.models import PeerSupporter
from directory.reference import reference, with_links
from directory.vcard import supporter_vcard

# The day the accessibility statement was last reviewed; change it with the statement.
ACCESSIBILITY_STATEMENT_DATE = datetime.date(2026, 11, 26)

# Every view here is public: GET and HEAD only, so no form posts, no CSRF cookie, nothing written.


class Cards:
    """Supporters for cards, in the order of queryset: the Paginator counts them once, then reads one slice.

    The slice is one query: each supporter with place and county, and the ids of their specialties and languages,
    which the reference data in memory turns into names.
    """

    def __init__(self, queryset, reference_data=None):
        self.queryset = queryset
        self.reference = reference_data

    def count(self):
        return self.queryset.count()

    def __getitem__(self, bounds):
        return with_links(list(self.queryset.with_link_ids()[bounds]), self.reference)


def page_of(queryset, raw_number, size=None, reference_data=None):
    """The requested page of results, and a message when the request could not be honoured as asked.

    No number or nonsense gives the first page, a number past the end the last. Also used by the open data.
    """
    paginator = Paginator(Cards(queryset, reference_data), size or settings.DIRECTORY_PAGE_SIZE)
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


def results_context(request, data, reference_data=None):
    """Everything a list of search results shows, for the search page and the county pages."""
    search = SupporterFilter(data, queryset=PeerSupporter.objects.listed(), reference_data=reference_data)
    page, page_message = page_of(search.qs, request.GET.get("page"), reference_data=search.reference)
    remote = search.remote_alternatives()
    return {
        "search": search,
        "page": page,
        "page_message": page_message,
        # Fewer numbers than Django's default: each link repeats the whole search in its address.
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "remote": None if remote is None else Cards(remote, search.reference)[: settings.DIRECTORY_REMOTE_LIST_SIZE],
        "remote_search_url": remote_search_url(data) if remote is not None else None,
        "today": search.today,
    }


@require_safe
def home(request):
    search = SupporterFilter()
    # Listed supporters per municipality (the index on listed and municipality answers it), added up by county.
    per_municipality = PeerSupporter.objects.listed().values_list("municipality_id").annotate(count=Count("pk"))
    per_county = {}
    for municipality_id, count in per_municipality.order_by():
        municipality = search.reference.municipalities.get(municipality_id)
        if municipality:
            per_county[municipality.county_id] = per_county.get(municipality.county_id, 0) + count
    counties = []
    for county in search.reference.active_counties:
        # A copy: the reference data is shared by every request of this process.
        county = copy.copy(county)
        county.supporter_count = per_county.get(county.pk, 0)
        counties.append(county)
    context = {"counties": counties, "county_map": county_map(counties), "search": search}
    return render(request, "directory/home.html", context)


@require_safe
def search(request):
    return render(request, "directory/search.html", results_context(request, request.GET))


@require_safe
def county(request, number):
    reference_data = reference()
    county = reference_data.county(number)
    if county is None:
        raise Http404
    data = request.GET.copy()
    data["county"] = county.number
    context = results_context(request, data, reference_data)
    return render(request, "directory/county.html", {"county": county, **context})


def listed_supporter(pk):
    """The listed supporter with this id, with place, county, specialties and languages, in one query."""
    return with_links([get_object_or_404(PeerSupporter.objects.listed().with_link_ids(), pk=pk)])[0]


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
