"""The company form's list fields as rows: secondary activities and partners are edited as table
rows (a formset each) instead of typed JSON, and read back in words in the history.

The rows only parse what was typed (a formatted CNAE, a date in the local format) and say which
cell is wrong, with the service's own rules (a row's CNAE code is cleaned as the main one is); the
list they produce is the same JSON the API accepts, and the rules on it are the model's own
validators (companies.values.validate_activities / validate_partners), run here on the whole list
to mark it and again by the service that writes it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from companies import cnpj as cnpj_value
from companies import services
from companies.formatting import format_cep
from companies.models import Company
from companies.values import validate_activities, validate_partners
from core.admin_history import EMPTY, list_text

EXTRA_ROWS = 2
MAX_ROWS = 500


def format_cnae(code: str) -> str:
    """`6201501` -> `6201-5/01`, the way CNAE codes are printed; anything else as it is."""
    if isinstance(code, str) and len(code) == 7 and code.isdigit():
        return f"{code[:4]}-{code[4]}/{code[5:]}"
    return str(code)


class ActivityRowForm(forms.Form):
    code = forms.CharField(
        label=_("CNAE code"),
        max_length=20,
        widget=forms.TextInput(attrs={"size": 10, "placeholder": "0000-0/00"}),
    )
    description = forms.CharField(
        label=_("Description"), max_length=255, required=False, widget=forms.TextInput(attrs={"size": 60})
    )

    def clean_code(self):
        try:
            # The service's rule for a CNAE code (the main one's), here to mark the cell.
            code = services.company_field_cleaner("main_activity_code")(self.cleaned_data["code"])
        except ValidationError:
            code = ""
        if not code:
            raise ValidationError(_("Enter a CNAE code of 7 digits, such as 6201-5/01."), code="invalid")
        return code

    def item(self) -> dict[str, Any]:
        return {"code": self.cleaned_data["code"], "description": self.cleaned_data["description"]}


class PartnerRowForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255, widget=forms.TextInput(attrs={"size": 40}))
    role = forms.CharField(
        label=_("Role (qualification)"), max_length=255, required=False, widget=forms.TextInput(attrs={"size": 30})
    )
    since = forms.DateField(
        label=_("Partner since"), required=False, widget=forms.DateInput(attrs={"size": 10, "class": "vDateField"})
    )

    def item(self) -> dict[str, Any]:
        since = self.cleaned_data["since"]
        return {
            "name": self.cleaned_data["name"],
            "role": self.cleaned_data["role"],
            "since": since.isoformat() if since else None,
        }


class RowFormSet(forms.BaseFormSet):
    """Rows in, the stored JSON list out (`items()`); blank extra rows and rows ticked for
    removal are left out."""

    list_validator = staticmethod(lambda items: None)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove")

    def items(self) -> list[dict[str, Any]]:
        deleted = self.deleted_forms
        return [row.item() for row in self.forms if row.cleaned_data and row not in deleted]

    def clean(self):
        if any(self.errors):
            return
        try:
            self.list_validator(self.items())
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class ActivityFormSet(RowFormSet):
    list_validator = staticmethod(validate_activities)
    label = _("Secondary activities")
    css_id = "secondary-activities"


class PartnerFormSet(RowFormSet):
    list_validator = staticmethod(validate_partners)
    label = _("Partners")
    css_id = "partners"


def _factory(form, formset):
    return forms.formset_factory(
        form, formset=formset, extra=EXTRA_ROWS, can_delete=True, max_num=MAX_ROWS, absolute_max=MAX_ROWS
    )


ActivityRows = _factory(ActivityRowForm, ActivityFormSet)
PartnerRows = _factory(PartnerRowForm, PartnerFormSet)

# Company field -> (formset class, prefix of its inputs)
ROW_FIELDS = {"secondary_activities": (ActivityRows, "activities"), "partners": (PartnerRows, "partners")}


def _initial(name: str, stored: Any) -> list[dict[str, Any]]:
    """The stored list as row values (dates as dates, so they show in the local format)."""
    rows = []
    for item in stored if isinstance(stored, list) else []:
        if not isinstance(item, dict):
            continue
        row = dict(item)
        if name == "secondary_activities":
            row["code"] = format_cnae(row.get("code") or "")
        if name == "partners" and isinstance(row.get("since"), str):
            row["since"] = parse_date(row["since"]) or row["since"]
        rows.append(row)
    return rows


def row_formsets(instance: Company, data=None) -> dict[str, RowFormSet]:
    """One bound (with `data`) or unbound formset per list field, started from `instance`'s lists."""
    return {
        name: formset_class(data, initial=_initial(name, getattr(instance, name)), prefix=prefix)
        for name, (formset_class, prefix) in ROW_FIELDS.items()
    }


# --- the lists in words (history, read-only pages) ---------------------------------------------
def activities_text(activities: Any) -> str:
    def item(activity):
        if not isinstance(activity, dict):
            return str(activity)
        code = format_cnae(activity.get("code") or "")
        return " ".join(part for part in (code, activity.get("description") or "") if part) or EMPTY

    return list_text(activities, item_text=item)


def partners_text(partners: Any) -> str:
    def item(partner):
        if not isinstance(partner, dict):
            return str(partner)
        text = partner.get("name") or EMPTY
        if partner.get("role"):
            text += f" ({partner['role']})"
        since = parse_date(partner["since"]) if isinstance(partner.get("since"), str) else partner.get("since")
        if isinstance(since, datetime.date):
            text += " " + str(_("since %(date)s") % {"date": date_format(since, "SHORT_DATE_FORMAT")})
        return text

    return list_text(partners, item_text=item)


HISTORY_FORMATTERS = {
    "cnpj": cnpj_value.format_cnpj,
    "main_activity_code": format_cnae,
    "zip_code": format_cep,
    "secondary_activities": activities_text,
    "partners": partners_text,
}
