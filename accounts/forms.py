import logging

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.emails import email_send
from accounts.models import User
from accounts.security import reset_mail_allowed

logger = logging.getLogger(__name__)


class LoginForm(auth_forms.AuthenticationForm):
    # The length of the e-mail field, checked before the address is looked up (Django only shows it to browsers):
    # SQLite refuses to compare with a pattern of 50,000 characters.
    username = auth_forms.UsernameField(
        label=_("E-mail address"),
        max_length=User._meta.get_field("email").max_length,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """The reset link goes out in the account's own language, after the answer has been sent.

    Nothing the visitor waits for depends on whether the address has an account: save() only keeps what the reset
    needs, and send() (called by the view once its answer is out) looks the address up, counts it against the limit
    and sends the e-mail. When the mail server fails, the visitor has seen the usual "check your e-mail" page, as for
    an address that has no account. The failure is logged for whoever runs the site with the account's number and
    the kind of error (never the error's text, which may quote the address).
    """

    def save(self, **options):
        self.save_options = options

    def send(self):
        """Send the reset e-mail, if the address has an account and has not had too many reset e-mails lately."""
        if reset_mail_allowed(self.cleaned_data["email"]):
            super().save(**self.save_options)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        try:
            email_send(to=to_email, language=context["user"].language, template="password_reset", context=context)
        except OSError as error:
            logger.error(
                "The password reset e-mail to account %s was not sent: %s", context["user"].pk, type(error).__name__
            )


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


class UniqueEmailMixin:
    """Refuse an e-mail address that differs from another account's only in case, with a clear message."""

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Another account already uses this e-mail address."))
        return email


class UserAdminCreationForm(UniqueEmailMixin, forms.ModelForm):
    """A new account has no password: its person chooses one, and staff set up their second factor, from the
    invitation that goes out when the account is added."""

    class Meta:
        model = User
        fields = ["email", "name", "language", "role", "counties"]

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
            self.save_m2m()
        return user


class UserAdminChangeForm(UniqueEmailMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
