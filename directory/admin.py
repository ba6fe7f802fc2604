from django.contrib import admin, messages

from accounts.services import InvitationError, supporter_invite, supporter_retire
from directory.models import Language, PeerSupporter, Specialty


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name_nb", "name_en", "group", "slug"]
    list_filter = ["group"]
    search_fields = ["name_nb", "name_en"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "name_nb", "name_en"]
    search_fields = ["code", "name_nb", "name_en"]


@admin.register(PeerSupporter)
class PeerSupporterAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "municipality", "county", "availability", "listed", "last_confirmed"]
    list_filter = ["listed", "availability", "municipality__county", "specialties__group"]
    list_select_related = ["municipality__county"]
    search_fields = ["name", "email", "town", "municipality__name"]
    autocomplete_fields = ["municipality", "account"]
    filter_horizontal = ["specialties", "languages"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        ("Person", {"fields": ["name", "title", "specialties", "languages"]}),
        ("Place", {"fields": ["municipality", "town"]}),
        ("Contact", {"fields": [("phone", "show_phone"), ("email", "show_email")]}),
        (
            "Meeting",
            {"fields": [("meets_in_person", "meets_by_phone", "meets_by_video"), ("evenings", "weekends"), "note"]},
        ),
        ("Availability", {"fields": [("availability", "availability_until"), "last_confirmed"]}),
        ("Roster", {"fields": ["listed", "appointed", "account", ("created_at", "updated_at")]}),
    ]

    actions = ["send_invitation", "retire"]

    @admin.action(description="Send an account invitation")
    def send_invitation(self, request, queryset):
        sent = 0
        for supporter in queryset.select_related("account"):
            try:
                supporter_invite(supporter=supporter, invited_by=request.user)
                sent += 1
            except InvitationError as error:
                self.message_user(request, str(error), messages.WARNING)
            except OSError as error:
                self.message_user(request, f"No e-mail could be sent to {supporter}: {error}", messages.ERROR)
        self.message_user(request, f"{sent} invitation(s) sent.", messages.SUCCESS if sent else messages.WARNING)

    @admin.action(description="Retire: unlist and deactivate the account")
    def retire(self, request, queryset):
        for supporter in queryset:
            supporter_retire(supporter=supporter)
        self.message_user(request, f"{queryset.count()} supporter(s) retired.", messages.SUCCESS)

    @admin.display(ordering="municipality__county__number")
    def county(self, supporter):
        return supporter.county
