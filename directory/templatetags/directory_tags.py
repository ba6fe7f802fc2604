from django import template

register = template.Library()


@register.inclusion_tag("includes/availability.html")
def availability_badge(supporter, today):
    """A supporter's availability as a doctor sees it today: a pause that has ended shows as open."""
    return {"status": supporter.availability_on(today), "until": supporter.until_on(today)}
