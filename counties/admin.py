from django.contrib import admin

from counties.models import County, Municipality


class MunicipalityInline(admin.TabularInline):
    model = Municipality
    fields = ["number", "name", "latitude", "longitude"]
    extra = 0


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "official_name", "active"]
    list_filter = ["active"]
    search_fields = ["number", "name", "official_name"]
    inlines = [MunicipalityInline]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "county", "latitude", "longitude"]
    list_filter = ["county"]
    list_select_related = ["county"]
    search_fields = ["number", "name"]
