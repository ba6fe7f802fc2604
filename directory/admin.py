from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Subquery
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.access import counties_in_scope, municipalities_in_scope, supporters_in_scope
from accounts.admin_actions import AllOrNothingActionsMixin, invitations_send
from accounts.admin_scope import ScopedHistoryAdmin, ScopedModelAdmin, administrators, roster_staff
from accounts.services import supporter_invite, supporter_retire
from directory.admin_forms import PeerSupporterAdminForm
from directory.import_export_admin import RosterImportExportMixin
from directory.models import Language, PeerSupporter, Specialty
from training.models import Attendance, TrainingMeeting


@admin.register(Specialty)
class SpecialtyAdmin(AllOrNothingActionsMixin, ScopedModelAdmin):
    list_display = ["name_nb", "name_en", "group", "slug"]
    list_filter = ["group"]
    search_fields = ["name_nb", "name_en"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(Language)
class LanguageAdmin(AllOrNothingActionsMixin, ScopedModelAdmin):
    list_display = ["code", "name_nb", "name_en"]
    search_fields = ["code", "name_nb", "name_en"]


class CountyFilter(admin.RelatedFieldListFilter):
    """Offers only the counties the user maintains."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = gettext_lazy("county")

    def field_choices(self, field, request, model_admin):
        return [(county.pk, str(county)) for county in counties_in_scope(request.user)]


class TrainingDueFilter(admin.SimpleListFilter):
    title = gettext_lazy("training")
    parameter_name = "training"

    def lookups(self, request, model_admin):
        return [("due", _("Training due")), ("current", _("Trained in time"))]

    def queryset(self, request, queryset):
        due = PeerSupporter.objects.training_due(timezone.localdate()).values("pk")
        if self.value() == "due":
            return queryset.filter(pk__in=due)
        if self.value() == "current":
            return queryset.exclude(pk__in=due)
        return queryset


class NotConfirmedFilter(admin.SimpleListFilter):
    title = gettext_lazy("details confirmed")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        days = settings.CONFIRMATION_MAX_AGE_DAYS
        return [("stale", _("Not confirmed for %(days)d days") % {"days": days})]

    def queryset(self, request, queryset):
        if self.value() == "stale":
            return queryset.filter(pk__in=PeerSupporter.objects.not_confirmed_since(timezone.localdate()).values("pk"))
        return queryset


class TrainingMeetingChoiceForm(forms.Form):
    meeting = forms.ModelChoiceField(
        TrainingMeeting.objects.all(), label=gettext_lazy("Training meeting"), empty_label=None
    )


@admin.register(PeerSupporter)
class PeerSupporterAdmin(AllOrNothingActionsMixin, RosterImportExportMixin, ScopedHistoryAdmin):
    """Coordinators add, change and act on the supporters of their own counties; administrators on all.

    Every action changes all the selected supporters or none (AllOrNothingActionsMixin), except invitations: each
    supporter's invitation is its own unit, since an e-mail that has left cannot be called back.
    """

    scope = staticmethod(supporters_in_scope)
    may_add = may_change = staticmethod(roster_staff)
    # Supporters leave by retiring, which keeps their record; deleting one is for administrators.
    may_delete = staticmethod(administrators)

    form = PeerSupporterAdminForm
    list_display = [
        "name",
        "title",
        "municipality",
        "county",
        "availability",
        "listed",
        "last_confirmed",
        "last_training",
        "training_due",
    ]
    list_filter = [
        ("municipality__county", CountyFilter),
        "specialties",
        "specialties__group",
        "availability",
        "listed",
        TrainingDueFilter,
        NotConfirmedFilter,
    ]
    list_select_related = ["municipality__county"]
    search_fields = ["name", "email", "town", "municipality__name"]
    autocomplete_fields = ["municipality", "account"]
    filter_horizontal = ["specialties", "languages"]
    readonly_fields = ["created_at", "updated_at", "last_training", "training_due"]
    fieldsets = [
        (gettext_lazy("Person"), {"fields": ["name", "title", "specialties", "languages", "version"]}),
        (gettext_lazy("Place"), {"fields": ["municipality", "town"]}),
        (gettext_lazy("Contact"), {"fields": [("phone", "show_phone"), ("email", "show_email")]}),
        (
            gettext_lazy("Meeting"),
            {"fields": [("meets_in_person", "meets_by_phone", "meets_by_video"), ("evenings", "weekends"), "note"]},
        ),
        (gettext_lazy("Availability"), {"fields": [("availability", "availability_until"), "last_confirmed"]}),
        (gettext_lazy("Training"), {"fields": [("last_training", "training_due")]}),
        (gettext_lazy("Roster"), {"fields": ["listed", "appointed", "account", ("created_at", "updated_at")]}),
    ]

    actions = ["list_supporters", "unlist_supporters", "record_attendance", "send_invitation", "retire"]
    actions_row_by_row = ["send_invitation"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_training_date=Subquery(
                    Attendance.objects.filter(supporter=OuterRef("pk"))
                    .order_by("-meeting__date")
                    .values("meeting__date")[:1]
                ),
                training_is_due=Exists(
                    PeerSupporter.objects.training_due(timezone.localdate()).filter(pk=OuterRef("pk"))
                ),
            )
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # modelform_factory made a new class for this request, so the user set here is this request's.
        form.user = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        # Which login a listing belongs to is the administrators' business: an account may be anyone's.
        if administrators(request.user):
            return self.readonly_fields
        return [*self.readonly_fields, "account"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "municipality":
            kwargs["queryset"] = municipalities_in_scope(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("county"), ordering="municipality__county__number")
    def county(self, supporter):
        return supporter.county

    @admin.display(description=gettext_lazy("last training"), ordering="last_training_date")
    def last_training(self, supporter):
        return getattr(supporter, "last_training_date", None) or _("never")

    @admin.display(description=gettext_lazy("training due"), boolean=True, ordering="training_is_due")
    def training_due(self, supporter):
        if supporter.pk is None:
            return None
        return getattr(supporter, "training_is_due", None)

    @admin.action(description=gettext_lazy("List in the public directory"), permissions=["change"])
    def list_supporters(self, request, queryset):
        self.set_listed(request, queryset, listed=True)

    @admin.action(description=gettext_lazy("Unlist from the public directory"), permissions=["change"])
    def unlist_supporters(self, request, queryset):
        self.set_listed(request, queryset, listed=False)

    def set_listed(self, request, queryset, *, listed):
        # One by one, through save(), so that each change is checked and kept in the history.
        done = 0
        for supporter in queryset.filter(listed=not listed):
            supporter.listed = listed
            try:
                supporter.full_clean()
            except ValidationError as error:
                message = _("%(supporter)s was not listed: %(reason)s")
                if not listed:
                    message = _("%(supporter)s was not unlisted: %(reason)s")
                self.message_user(
                    request, message % {"supporter": supporter, "reason": " ".join(error.messages)}, messages.ERROR
                )
                continue
            supporter.save(update_fields=["listed", "updated_at"])
            done += 1
        if listed:
            message = ngettext("%(count)d supporter listed.", "%(count)d supporters listed.", done)
        else:
            message = ngettext("%(count)d supporter unlisted.", "%(count)d supporters unlisted.", done)
        self.message_user(request, message % {"count": done}, messages.SUCCESS if done else messages.WARNING)

    @admin.action(description=gettext_lazy("Record attendance at a training meeting"), permissions=["change"])
    def record_attendance(self, request, queryset):
        form = TrainingMeetingChoiceForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            meeting = form.cleaned_data["meeting"]
            created = 0
            for supporter in queryset:
                created += Attendance.objects.get_or_create(meeting=meeting, supporter=supporter)[1]
            already = queryset.count() - created
            message = ngettext(
                "Attendance at %(meeting)s recorded for %(count)d supporter",
                "Attendance at %(meeting)s recorded for %(count)d supporters",
                created,
            ) % {"meeting": meeting, "count": created}
            message += "; " + ngettext(
                "%(count)d was already recorded.", "%(count)d were already recorded.", already
            ) % {"count": already}
            self.message_user(request, message, messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/directory/peersupporter/record_attendance.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record attendance at a training meeting"),
                "opts": self.model._meta,
                "form": form,
                "supporters": queryset,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=gettext_lazy("Send an account invitation"), permissions=["change"])
    def send_invitation(self, request, queryset):
        """Each supporter all or nothing: an account, the invitation and its e-mail, or none of them.

        Invitations already sent stay sent when a later one fails; staff see who got none and can select them again.
        """
        invitations_send(
            self,
            request,
            queryset.select_related("account"),
            lambda supporter: supporter_invite(supporter=supporter, invited_by=request.user),
        )

    @admin.action(description=gettext_lazy("Retire: unlist and deactivate the account"), permissions=["change"])
    def retire(self, request, queryset):
        retired = 0
        for supporter in queryset:
            supporter_retire(supporter=supporter)
            retired += 1
        message = ngettext("%(count)d supporter retired.", "%(count)d supporters retired.", retired)
        self.message_user(request, message % {"count": retired}, messages.SUCCESS)
