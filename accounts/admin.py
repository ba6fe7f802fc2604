from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext, gettext_lazy
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin as BaseStaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as BaseTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.admin_actions import AllOrNothingActionsMixin, invitations_send
from accounts.admin_scope import ScopedAdminMixin, administrators
from accounts.forms import UserAdminChangeForm, UserAdminCreationForm
from accounts.models import Invitation, User
from accounts.services import invitation_send, second_factor_reset
from accounts.two_factor import second_factor_remove

# Accounts, invitations and second-factor devices: national administrators only.


class AdministratorsOnlyMixin(AllOrNothingActionsMixin, ScopedAdminMixin):
    may_view = staticmethod(administrators)


# Who may do what follows the staff role, not Django's groups and model permissions: keep groups out of sight.
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(AdministratorsOnlyMixin, BaseUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ["email"]
    list_display = ["email", "name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "counties"]
    search_fields = ["email", "name"]
    filter_horizontal = ["counties"]
    readonly_fields = ["is_staff", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (gettext_lazy("Person"), {"fields": ["name", "language"]}),
        (gettext_lazy("Staff role"), {"fields": ["role", "counties", "is_active", "is_staff", "is_superuser"]}),
        (gettext_lazy("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    # A new account gets an invitation e-mail instead of a password chosen here (UserAdminCreationForm).
    add_form_template = None
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "language", "role", "counties"],
                "description": gettext_lazy(
                    "No password is chosen here: saving sends the person an invitation by e-mail to choose one and, "
                    "for staff, to set up their second factor."
                ),
            },
        ),
    ]
    actions = ["send_invitation", "reset_second_factor"]
    actions_row_by_row = ["send_invitation", "reset_second_factor"]

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser makes another.
        if request.user.is_superuser:
            return self.readonly_fields
        return [*self.readonly_fields, "is_superuser"]

    def save_model(self, request, obj, form, change):
        was_staff = change and type(obj).objects.filter(pk=obj.pk, is_staff=True).exists()
        super().save_model(request, obj, form, change)
        if change and obj.is_staff and not was_staff:
            # A second factor the account already had was set up with its password alone: staff set up theirs only
            # from an invitation (sent by response_change).
            second_factor_remove(obj)
            request.made_staff = obj

    def response_add(self, request, obj, post_url_continue=None):
        self.invite(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "made_staff", None) == obj:
            self.message_user(
                request,
                gettext(
                    "%(account)s now has a staff role, so any second factor it had is removed: they set up a new one "
                    "from an invitation."
                )
                % {"account": obj},
                messages.INFO,
            )
            self.invite(request, obj)
        return super().response_change(request, obj)

    def invite(self, request, user):
        invitations_send(self, request, [user], lambda user: invitation_send(user=user, invited_by=request.user))

    @admin.action(
        description=gettext_lazy("Reset the second factor and send an invitation to set it up again"),
        permissions=["change"],
    )
    def reset_second_factor(self, request, queryset):
        """For someone who lost their phone: their authenticator and recovery codes go, and an invitation lets them
        choose a password and set up a new one. Each reset is in the account's history."""
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(
                request,
                gettext("You cannot reset your own second factor: ask another administrator, or use a recovery code."),
                messages.WARNING,
            )
            queryset = queryset.exclude(pk=request.user.pk)

        def reset(user):
            with transaction.atomic():
                second_factor_reset(user=user, reset_by=request.user)
                self.log_change(request, user, gettext("Second factor reset; invitation sent to set it up again."))
            self.message_user(
                request,
                gettext("The second factor of %(account)s is removed; they set up a new one from the invitation.")
                % {"account": user},
                messages.SUCCESS,
            )

        invitations_send(self, request, queryset.filter(is_active=True), reset)

    @admin.action(description=gettext_lazy("Send an invitation to set a password"), permissions=["change"])
    def send_invitation(self, request, queryset):
        """Each account its own unit: the invitation is kept only if its e-mail was sent."""
        invitations_send(
            self,
            request,
            queryset.filter(is_active=True),
            lambda user: invitation_send(user=user, invited_by=request.user),
        )


@admin.register(Invitation)
class InvitationAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "created_at", "expires_at", "used_at", "invited_by"]
    list_select_related = ["user", "invited_by"]
    search_fields = ["user__email", "user__name"]
    readonly_fields = ["user", "created_at", "expires_at", "used_at", "invited_by"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        # Invitations are sent from the supporter or account lists, which also e-mail the link.
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing to change; deleting one withdraws the link.
        return False


admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


class SecondFactorDeviceMixin:
    """Devices are seen and removed here, never added or changed: staff set up their own second factor from an
    invitation, so nobody, an administrator included, knows its secret (OTP_ADMIN_HIDE_SENSITIVE_DATA hides it)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def lookup_allowed(self, lookup, value, request):
        # The admin takes filters from the address on any field of the model: one on the secret would let it be
        # guessed a character at a time, by watching whether the device stays in the list.
        if lookup.split(LOOKUP_SEP)[0] in ("key", "token_set"):
            return False
        return super().lookup_allowed(lookup, value, request)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(SecondFactorDeviceMixin, AdministratorsOnlyMixin, BaseTOTPDeviceAdmin):
    pass


@admin.register(StaticDevice)
class StaticDeviceAdmin(SecondFactorDeviceMixin, AdministratorsOnlyMixin, BaseStaticDeviceAdmin):
    pass
