"""E-mail to supporters and staff, in each person's own language."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


def email_send(*, to, language, template, context):
    """Send templates/emails/<template>.<language>.txt; its first line is the subject.

    Raises the mail server's error, so that the caller can tell the person that nothing was sent.
    """
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGES[0][0]
    with translation.override(language):
        text = render_to_string(
            f"emails/{template}.{language}.txt", {"site_url": settings.SITE_URL.rstrip("/"), **context}
        )
    subject, _, body = text.partition("\n")
    send_mail(subject.strip(), body.lstrip("\n"), settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)


def email_user(user, *, template, context):
    email_send(to=user.email, language=user.language, template=template, context={"user": user, **context})
