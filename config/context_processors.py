"""Values every page's layout needs."""

from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language


def language_switch(request):
    """A link to this same page, with the same search, in each other language (the language lives in the address)."""
    current = get_language()
    path = request.get_full_path()
    return {
        "other_languages": [
            {"code": code, "name": name, "url": translate_url(path, code)}
            for code, name in settings.LANGUAGES
            if code != current
        ]
    }
