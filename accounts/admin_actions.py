"""Admin actions that never leave half a change: every selected row is changed, or none.

Each bulk action runs in one transaction. When the database refuses any part of it (a constraint, a lock that is not
released in time, a full disk, a fault), the whole action is undone and staff see one message saying that nothing was
changed, instead of a server error. What the action had told staff before it failed is dropped with its changes.

E-mail cannot be taken back once the mail server has it, so an action that sends e-mail is named in
`actions_row_by_row` and makes each row its own unit instead: `invitations_send` does that for invitations.
"""

import dataclasses
import functools
import logging
import smtplib

from django.contrib import admin, messages
from django.contrib.admin.utils import model_format_dict
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services import InvitationError

logger = logging.getLogger(__name__)


def database_error_text(error):
    """The database's own words for an error, on one line (PostgreSQL adds lines of context)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class AllOrNothingActionsMixin:
    """For every ModelAdmin: each action, Django's "delete selected" included, is all or nothing."""

    # Actions that make each row their own unit, because they do what a rollback cannot undo (send e-mail).
    actions_row_by_row = ()

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        for name, action in actions.items():
            if name not in self.actions_row_by_row:
                actions[name] = dataclasses.replace(action, func=all_or_nothing(action))
        return actions

    def message_user(self, request, message, level=messages.INFO, extra_tags="", fail_silently=False):
        # While an action runs, its messages wait for the transaction: they describe changes that may yet be undone.
        held = getattr(request, "held_action_messages", None)
        if held is not None:
            held.append((message, level, extra_tags, fail_silently))
            return
        super().message_user(request, message, level, extra_tags, fail_silently)


def all_or_nothing(action):
    """The action's function, run in one transaction; a database error undoes it all and is told to staff."""
    function = action.func

    @functools.wraps(function)
    def run(modeladmin, request, queryset):
        held = request.held_action_messages = []
        try:
            with transaction.atomic():
                response = function(modeladmin, request, queryset)
        except DatabaseError as error:
            logger.exception("Admin action %s on %s failed and was undone.", action.name, modeladmin.opts.label)
            held = [
                (
                    _(
                        "Nothing was changed: the database refused “%(action)s” (%(error)s), so it was undone for "
                        "every selected row. Try again; if it fails again, tell whoever runs the site."
                    )
                    % {
                        "action": action.plural_description % model_format_dict(modeladmin.opts),
                        "error": database_error_text(error),
                    },
                    messages.ERROR,
                    "",
                    False,
                )
            ]
            response = None
        finally:
            del request.held_action_messages
        for message in held:
            modeladmin.message_user(request, *message)
        return response

    return run


def mail_error_text(error):
    """The mail server's reply (code and words), or what went wrong with the connection to it."""
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        return f"{error.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
    return str(error) or type(error).__name__


def mail_server_failed(error):
    """True when the error is the mail server's as a whole (unreachable, refusing, gone), not one recipient's."""
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPRecipientsRefused)


def invitations_send(modeladmin, request, people, send):
    """Send each of people an invitation with send(person), each in its own transaction, and tell staff the outcome.

    A person whose invitation fails keeps nothing of it (services.supporter_invite and invitation_send are atomic);
    those already sent stay sent. When the mail server itself fails, the rest are not tried: each attempt would wait
    for the same server, and staff can send them all again once it works.
    """
    sent = 0
    people = list(people)
    for number, person in enumerate(people):
        try:
            send(person)
            sent += 1
        except InvitationError as error:
            modeladmin.message_user(request, str(error), messages.WARNING)
        except DatabaseError as error:
            logger.exception("An invitation could not be stored.")
            modeladmin.message_user(
                request,
                _(
                    "No invitation was sent to %(name)s: the database refused it (%(error)s). Nothing was created or "
                    "changed for them; try again."
                )
                % {"name": person, "error": database_error_text(error)},
                messages.ERROR,
            )
        except OSError as error:
            modeladmin.message_user(
                request,
                _(
                    "No invitation was sent to %(name)s: the e-mail could not be sent (%(error)s). Nothing was "
                    "created or changed for them; send the invitation again when the mail server works."
                )
                % {"name": person, "error": mail_error_text(error)},
                messages.ERROR,
            )
            rest = people[number + 1 :]
            if mail_server_failed(error) and rest:
                modeladmin.message_user(
                    request,
                    ngettext(
                        "The mail server is not working, so no invitation was sent to the %(count)d other selected "
                        "person either: %(names)s.",
                        "The mail server is not working, so no invitation was sent to the %(count)d other selected "
                        "people either: %(names)s.",
                        len(rest),
                    )
                    % {"count": len(rest), "names": ", ".join(str(other) for other in rest)},
                    messages.ERROR,
                )
                break
    message = ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", sent) % {"count": sent}
    modeladmin.message_user(request, message, messages.SUCCESS if sent else messages.WARNING)
