"""The admin's change forms refuse a save based on a stale version: the form carries the record's
`updated_at` as it was when the page was opened, and the save is refused, with the form kept,
when the record changed since (another person, the API, the enrichment). The same check runs
again under the write's lock, for a change that lands between the form check and the save."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

STALE_MESSAGE = _(
    "This record was changed by someone else since you opened this page. Nothing was saved: "
    "open the record again to see the current values, then make your change again."
)


class StaleEdit(Exception):
    """Raised under the write's lock when the stored version is not the one the form was based on."""


def version_of(instance) -> str:
    updated = getattr(instance, "updated_at", None)
    return updated.isoformat() if updated else ""


class VersionedFormMixin(forms.Form):
    """For a ModelForm: a hidden `version` field, checked in clean(). Set `check_version = False`
    on a form class that edits from a past version on purpose (reverting to it)."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)
    check_version = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["version"] = version_of(self.instance)

    def based_on(self) -> str:
        """The version the submitted form was based on ("" when it did not say)."""
        return (self.data.get(self.add_prefix("version")) or "").strip() if self.is_bound else ""

    def clean(self):
        cleaned = super().clean()
        sent = self.based_on()
        # The instance was read from the database for this request: it is the stored version.
        if self.check_version and self.instance.pk is not None and sent and sent != version_of(self.instance):
            raise ValidationError(STALE_MESSAGE, code="stale")
        return cleaned

    def precondition(self):
        """For the service's write: refuses it if the locked, stored record is not the version the
        form was based on (None when there is nothing to check)."""
        sent = self.based_on()
        if not (self.check_version and sent):
            return None

        def check(stored) -> None:
            if version_of(stored) != sent:
                raise StaleEdit(str(STALE_MESSAGE))

        return check
