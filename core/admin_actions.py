"""Admin actions that say what they did: how many of the selected records were done (queued,
archived, ...), how many were skipped and why, in one message."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext


@dataclass(frozen=True)
class Skip:
    """Selected records matching `condition` are left alone; `reason` is an ngettext_lazy with
    "count" as its number, e.g. ngettext_lazy("%(count)d already has a card", "... have ...", "count")."""

    condition: Q
    reason: Promise


@dataclass
class Selection:
    """The selected records to act on, and those skipped with the reasons."""

    remaining: QuerySet
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, count: int, reason: str) -> None:
        self.skipped += count
        self.reasons.append(reason)

    def message(self, done: str) -> str:
        return outcome_message(done, self.reasons, skipped=self.skipped)


def split_selection(queryset: QuerySet, skips: Iterable[Skip]) -> Selection:
    """Take out of the selection the records each skip matches, counting them under its reason
    (a record matching several skips counts under the first)."""
    selection = Selection(queryset)
    for skip in skips:
        count = selection.remaining.filter(skip.condition).count()
        if count:
            selection.skip(count, skip.reason % {"count": count})
            selection.remaining = selection.remaining.exclude(skip.condition)
    return selection


def outcome_message(done: str, reasons: Sequence[str], *, skipped: int) -> str:
    """ "<done>; <skipped>: <reason>, <reason>." or "<done>." when nothing was skipped."""
    if not reasons:
        return gettext("%(done)s.") % {"done": done}
    skipped_text = ngettext("%(count)d skipped", "%(count)d skipped", skipped) % {"count": skipped}
    return gettext("%(done)s; %(skipped)s: %(reasons)s.") % {
        "done": done,
        "skipped": skipped_text,
        "reasons": ", ".join(str(reason) for reason in reasons),
    }


class CheckedSelectionMixin:
    """A ModelAdmin mixin: an action posted with selected ids that are not ids of this model (a
    hand-edited form) is answered with a message, not a server error."""

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.to_python(value)
        except (ValidationError, ValueError, TypeError):
            self.message_user(request, gettext("The selection is not valid; select the rows again."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)
