"""A supporter's own listing. The addresses carry no id: the listing is the logged-in account's own, always."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import supporter_required
from directory.forms import ListingForm
from directory.models import PeerSupporter


@supporter_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_listing(request, supporter):
    today = timezone.localdate()
    form = ListingForm(request.POST if request.method == "POST" else None, instance=supporter, today=today)
    if form.is_bound and form.is_valid():
        with transaction.atomic():
            form.save_listing(confirmed_on=today)
        messages.success(request, _("Your listing is saved. Doctors see the change at once."))
        return redirect("directory:my_listing")
    # The preview shows what is stored, never what a refused form holds.
    stored = PeerSupporter.objects.for_cards().get(pk=supporter.pk)
    context = {
        "form": form,
        "supporter": stored,
        "today": today,
        "last_training": supporter.attendances.select_related("meeting").order_by("-meeting__date").first(),
        "training_due": PeerSupporter.objects.filter(pk=supporter.pk).training_due(today).exists(),
    }
    return render(request, "directory/my_listing.html", context)


@supporter_required
@require_POST
def my_listing_confirm(request, supporter):
    today = timezone.localdate()
    supporter.last_confirmed = today
    supporter.save(update_fields=["last_confirmed", "updated_at"])
    day = date_format(today, pgettext("date format", "j F Y"))
    messages.success(request, _("Thank you. Your listing shows it was confirmed on %(day)s.") % {"day": day})
    return redirect("directory:my_listing")
