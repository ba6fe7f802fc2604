from django import template

register = template.Library()


@register.inclusion_tag("includes/availability.html")
def availability_badge(supporter, today):
    """A supporter's availability as a doctor sees it today: a pause that has ended shows as open."""
    return {"status": supporter.availability_on(today), "until": supporter.until_on(today)}


@register.simple_tag
def meeting_modes(supporter):
    """The ways a supporter meets, in lower case for the middle of a sentence: "in person, by phone"."""
    return ", ".join(str(mode.label).lower() for mode in supporter.modes)


@register.simple_tag
def language_names(languages):
    """Language names in the active language, separated by commas."""
    return ", ".join(language.name for language in languages)
