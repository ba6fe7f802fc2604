from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.forms import UserAdminChangeForm, UserAdminCreationForm
from accounts.models import Invitation, User
from accounts.services import invitation_send


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["name", "language"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]}),
    ]
    actions = ["send_invitation"]

    @admin.action(description="Send an invitation to set a password")
    def send_invitation(self, request, queryset):
        sent = 0
        for user in queryset.filter(is_active=True):
            try:
                invitation_send(user=user, invited_by=request.user)
                sent += 1
            except OSError as error:
                self.message_user(request, f"No e-mail could be sent to {user.email}: {error}", messages.ERROR)
        self.message_user(request, f"{sent} invitation(s) sent.", messages.SUCCESS if sent else messages.WARNING)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "expires_at", "used_at", "invited_by"]
    list_select_related = ["user", "invited_by"]
    search_fields = ["user__email", "user__name"]
    readonly_fields = ["user", "created_at", "expires_at", "used_at", "invited_by"]
    fields = readonly_fields

    def has_add_permission(self, request):
        # Invitations are sent from the supporter or account lists, which also e-mail the link.
        return False
