from django.contrib import admin

from accounts.access import counties_in_scope, municipalities_in_scope
from accounts.admin_actions import AllOrNothingActionsMixin
from accounts.admin_scope import ScopedHistoryAdmin, ScopedInlineMixin, ScopedModelAdmin
from counties.models import County, Municipality

# Geography is reference data: administrators edit it (counties merge and split); coordinators see their own.


class MunicipalityInline(ScopedInlineMixin, admin.TabularInline):
    model = Municipality
    scope = staticmethod(municipalities_in_scope)
    fields = ["number", "name", "latitude", "longitude"]
    extra = 0


@admin.register(County)
class CountyAdmin(AllOrNothingActionsMixin, ScopedHistoryAdmin):
    scope = staticmethod(counties_in_scope)
    list_display = ["number", "name", "official_name", "active"]
    list_filter = ["active"]
    search_fields = ["number", "name", "official_name"]
    inlines = [MunicipalityInline]


@admin.register(Municipality)
class MunicipalityAdmin(AllOrNothingActionsMixin, ScopedModelAdmin):
    scope = staticmethod(municipalities_in_scope)
    list_display = ["number", "name", "county", "latitude", "longitude"]
    list_filter = ["county"]
    list_select_related = ["county"]
    search_fields = ["number", "name"]
