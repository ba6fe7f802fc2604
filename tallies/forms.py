from django import forms
from django.utils.translation import gettext_lazy as _

from directory.models import PeerSupporter
from tallies.models import MAX_PER_MODE

# One count per meeting mode; the mode's value is also the name of its column in MonthlyTally.
MODES = list(PeerSupporter.Mode)


def count_field(label):
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_PER_MODE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Enter a whole number, such as 0 or 3."),
            "min_value": _("A count cannot be less than 0."),
            "max_value": _("At most %(limit_value)s in one month; please check for a typing error."),
        },
    )


class TallyForm(forms.Form):
    """How many conversations in one month, by meeting mode. Counts only: there is nowhere to write anything else."""

    in_person = count_field(_("In person"))
    phone = count_field(_("By phone"))
    video = count_field(_("By video"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        for mode in MODES:
            # An empty box means none, as the page says.
            if mode.value in cleaned and cleaned[mode.value] is None:
                cleaned[mode.value] = 0
        return cleaned
