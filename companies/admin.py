"""Back office for companies: search, filters, history in words, actions, import and export;
writes go through companies.services (and imports through companies.imports)."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from access.actor import actor_in_words
from companies import cnpj as cnpj_value
from companies import enrichment, formatting, selectors, services
from companies import tasks as company_tasks
from companies.admin_rows import HISTORY_FORMATTERS, ROW_FIELDS, row_formsets
from companies.backlog import ENRICHMENT, PIPEFY, PIPEFY_CARDED, PIPEFY_FAILED
from companies.imports import ImportFileError, check_import_file
from companies.models import BOOKKEEPING_FIELDS, Company
from companies.values import NORMALIZERS
from core.admin_actions import CheckedSelectionMixin, Skip, split_selection
from core.admin_exports import ExportAdminMixin
from core.admin_history import HISTORY_TYPES, HistoryRow, changes_in_words
from core.admin_versions import StaleEdit, VersionedFormMixin
from core.exceptions import ServiceUnavailable
from core.exports import Column
from integrations.guard import COOLING_DOWN, OK, OPEN
from tasks.admin_imports import ImportAdminMixin, ImportRefused
from tasks.imports import data_lines
from tasks.services import broker_check

QUEUE_DOWN = _("The task queue is unavailable: nothing was queued. Try again shortly.")
# Adding a company: nothing is stored either.
QUEUE_DOWN_MESSAGE = _("The task queue is unavailable: nothing was queued and nothing was stored. Try again shortly.")
QUEUE_STOPPED = ngettext_lazy(
    "%(count)d not queued because the task queue stopped answering (try again shortly)",
    "%(count)d not queued because the task queue stopped answering (try again shortly)",
    "count",
)
PIPEFY_NOT_CONFIGURED = _(
    "Pipefy is not configured on this server (PIPEFY_TOKEN and PIPEFY_PIPE_ID): nothing was queued."
)
LOOKUPS_QUEUED = ngettext_lazy(
    "%(count)d company queued for a new registry lookup",
    "%(count)d companies queued for a new registry lookup",
    "count",
)
LOOKUP_RUNNING = ngettext_lazy(
    "%(count)d is being looked up right now", "%(count)d are being looked up right now", "count"
)
LOOKUP_WAITING = ngettext_lazy(
    "%(count)d is already waiting for its lookup", "%(count)d are already waiting for their lookup", "count"
)
PUSHES_QUEUED = ngettext_lazy(
    "%(count)d company queued for Pipefy", "%(count)d companies queued for Pipefy", "count"
)
HAS_CARD = ngettext_lazy("%(count)d already has a Pipefy card", "%(count)d already have a Pipefy card", "count")
PUSH_RUNNING = ngettext_lazy("%(count)d is being pushed right now", "%(count)d are being pushed right now", "count")
PUSH_WAITING = ngettext_lazy(
    "%(count)d is already waiting for its push", "%(count)d are already waiting for their push", "count"
)
PROVIDER_STATES = {OK: _("available"), COOLING_DOWN: _("cooling down"), OPEN: _("paused after failures")}

_READ_ONLY = (
    "cnpj_formatted",
    "zip_code_formatted",
    "share_capital_formatted",
    "root",
    "is_head_office",
    *(name for name in BOOKKEEPING_FIELDS if name != "registry_payload"),
    "registry_payload_pretty",
    "created_at",
    "updated_at",
)


class CompanyAdminForm(VersionedFormMixin, forms.ModelForm):
    """The form reads what was typed (text, dates in the local format, the rows); the rules on the
    values are the service's: clean() passes them through companies.services.company_fields_clean
    and shows its errors on their fields, so the admin accepts and refuses what the API does."""

    # Wider than the stored 14 characters: the formatted form (18) and separators are accepted.
    cnpj = forms.CharField(label=_("CNPJ"), max_length=32, help_text=_("Raw or formatted; letters in any case."))

    class Meta:
        model = Company
        # The two lists are edited as rows (companies.admin_rows), not as typed JSON.
        fields = ("cnpj", *(name for name in services.EDITABLE_FIELDS if name not in ROW_FIELDS))
        help_texts = {
            "share_capital": _("In reais, with a dot before the cents: 1234.56."),
            "zip_code": _("8 digits, with or without the dash: 01310-100."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = row_formsets(self.instance, self.data if self.is_bound else None)
        for name in NORMALIZERS:
            if name in self.fields:
                self.fields[name] = _text_input(self.fields[name])

    def clean(self):
        cleaned = super().clean()
        wrong = [str(rows.label) for rows in self.rows.values() if not rows.is_valid()]
        if wrong:
            message = _("Correct the rows marked below: %(lists)s.")
            self.add_error(None, ValidationError(message, code="rows", params={"lists": ", ".join(wrong)}))
        else:
            cleaned.update({name: rows.items() for name, rows in self.rows.items()})
        fields = {name: cleaned[name] for name in services.EDITABLE_FIELDS if name in cleaned}
        try:
            cleaned.update(services.company_fields_clean(fields))
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        if self.instance.pk is None and not self.errors:
            # Adding queues the registry enrichment: say so here, with the form kept, rather
            # than fail the save when the task queue is down.
            try:
                broker_check()
            except ServiceUnavailable as exc:
                raise ValidationError(QUEUE_DOWN_MESSAGE, code="service_unavailable") from exc
        return cleaned

    def rows_changed(self) -> list[str]:
        """The list fields whose rows the user changed (added, edited or removed a row)."""
        return [name for name, rows in self.rows.items() if rows.has_changed()]

    def clean_cnpj(self):
        try:
            return services.cnpj_clean(self.cleaned_data["cnpj"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["cnpj"]) from exc


def _text_input(field: forms.Field) -> forms.Field:
    """The same input (a text box, or the list to choose from), reading the text as typed: a CEP
    with its dash, a formatted CNAE or a lower-case UF is the service's to normalise and check."""
    widget = field.widget
    if isinstance(field, forms.ChoiceField):
        widget = forms.Select(choices=field.choices)
    else:
        widget.attrs.pop("maxlength", None)
    return forms.CharField(
        label=field.label, required=field.required, help_text=field.help_text, widget=widget, initial=field.initial
    )


class HeadOfficeFilter(admin.SimpleListFilter):
    title = _("head office")
    parameter_name = "head_office"

    def lookups(self, request, model_admin):
        return [("yes", _("Head office (0001)")), ("no", _("Branch"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        queryset = queryset.annotate(branch=Substr("cnpj", 9, 4))
        if self.value() == "yes":
            return queryset.filter(branch=cnpj_value.HEAD_OFFICE_BRANCH)
        return queryset.exclude(branch=cnpj_value.HEAD_OFFICE_BRANCH)


def _cnpj_formatted_sql():
    """`12.345.678/0001-95` from the stored 14 characters, as cnpj_value.format_cnpj writes it."""
    parts = [Substr("cnpj", 1, 2), Value("."), Substr("cnpj", 3, 3), Value("."), Substr("cnpj", 6, 3), Value("/")]
    return Concat(*parts, Substr("cnpj", 9, 4), Value("-"), Substr("cnpj", 13, 2))


EXPORT_COLUMNS = (
    Column(_("CNPJ"), "cnpj", cnpj_value.format_cnpj, sql=_cnpj_formatted_sql),
    Column(_("Legal name"), "legal_name"),
    Column(_("Trade name"), "trade_name"),
    Column(_("Registration status"), "registration_status"),
    Column(_("Status date"), "status_date"),
    Column(_("Opened on"), "opened_on"),
    Column(_("Legal nature"), "legal_nature"),
    Column(_("Size"), "size"),
    Column(_("Share capital"), "share_capital"),
    Column(_("Main CNAE"), "main_activity_code"),
    Column(_("Main CNAE description"), "main_activity_description"),
    Column(_("Street"), "street"),
    Column(_("Number"), "street_number"),
    Column(_("Complement"), "complement"),
    Column(_("District"), "district"),
    Column(_("City"), "city"),
    Column(_("UF"), "state"),
    Column(_("CEP"), "zip_code"),
    Column(_("Email"), "email"),
    Column(_("Phone"), "phone"),
    Column(_("Enrichment status"), "enrichment_status"),
    Column(_("Registry synced at (UTC)"), "registry_synced_at"),
    Column(_("Created at (UTC)"), "created_at"),
    Column(_("Updated at (UTC)"), "updated_at"),
)


class BacklogFilter(admin.SimpleListFilter):
    """Where a company stands in the two work queues (companies.backlog), as the dashboard counts it."""

    title = _("backlog")
    parameter_name = "backlog"
    CHOICES = {
        "enrichment_waiting": (_("Enrichment: waiting"), lambda now: ENRICHMENT.waiting(now)),
        "enrichment_in_progress": (_("Enrichment: in progress"), lambda now: ENRICHMENT.in_progress(now)),
        "pipefy_waiting": (_("Pipefy: waiting"), lambda now: PIPEFY.waiting(now)),
        "pipefy_in_progress": (_("Pipefy: in progress"), lambda now: PIPEFY.in_progress(now)),
        "pipefy_failed": (_("Pipefy: failed"), lambda now: PIPEFY_FAILED),
        "pipefy_card": (_("Pipefy: has a card"), lambda now: PIPEFY_CARDED),
    }

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _condition) in self.CHOICES.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.CHOICES:
            return queryset
        return queryset.filter(self.CHOICES[self.value()][1](timezone.now()))


@admin.register(Company)
class CompanyAdmin(CheckedSelectionMixin, ImportAdminMixin, ExportAdminMixin, SimpleHistoryAdmin):
    form = CompanyAdminForm
    list_display = (
        "cnpj_formatted",
        "legal_name",
        "trade_name",
        "registration_status",
        "city_uf",
        "zip_code_formatted",
        "share_capital_formatted",
        "enrichment_status",
        "updated_at",
    )
    list_filter = ("registration_status", "state", "enrichment_status", BacklogFilter, HeadOfficeFilter)
    search_fields = ("legal_name", "trade_name")
    search_help_text = _("CNPJ (raw or formatted, or its beginning), legal name or trade name.")
    ordering = ("cnpj",)
    list_per_page = 50
    show_full_result_count = False
    history_list_display = ()
    object_history_list_template = "admin/history_in_words.html"
    object_history_form_template = "admin/companies/company/object_history_form.html"
    fieldsets = (
        (None, {"fields": ("cnpj", "legal_name", "trade_name", "version")}),
        (
            _("Registration"),
            {"fields": ("registration_status", "status_date", "opened_on", "legal_nature", "size", "share_capital")},
        ),
        (
            # The secondary activities and the partners follow as rows (see change_form.html).
            _("Activities and partners"),
            {"fields": ("main_activity_code", "main_activity_description"), "classes": ("company-rows",)},
        ),
        (
            _("Address and contact"),
            {
                "fields": (
                    "street", "street_number", "complement", "district", "city", "state", "zip_code",
                    "city_ibge_code", "email", "phone",
                )
            },
        ),
        (
            _("Registry (set by the enrichment and the Pipefy integration)"),
            {
                "fields": (
                    "enrichment_status", "enrichment_error", "registry_source", "registry_synced_at",
                    "pipefy_card_id", "registry_payload_pretty",
                )
            },
        ),
        (_("Record"), {"fields": ("root", "is_head_office", "created_at", "updated_at")}),
    )

    # --- never delete -----------------------------------------------------------------------
    change_list_template = "admin/companies/company/change_list.html"

    # --- import (tasks.admin_imports) and export (core.admin_exports) ---------------------------
    import_task = company_tasks.company_import_file_task
    import_extensions = (".csv",)
    import_help = _(
        "A header row names the columns: cnpj (raw or formatted) and any editable company field "
        "(legal_name, trade_name, city, state, ...; secondary_activities and partners as JSON). "
        "CNPJs already stored are left alone; new companies get their registry lookup queued."
    )
    export_columns = EXPORT_COLUMNS

    def import_check(self, *, content, filename):
        try:
            check_import_file(content=content)
        except ImportFileError as error:
            raise ImportRefused(str(error)) from None
        return data_lines(content, header=True)

    def import_report_figures(self, report):
        return [
            (_("Rows read"), report["rows"]),
            (_("Inserted"), report["inserted"]),
            (_("Already stored"), report["stored"]),
            (_("Repeated in the file"), report["repeated"]),
            (_("Invalid"), report["invalid"]),
        ]

    def changelist_view(self, request, extra_context=None):
        figures = enrichment.backlog_status()
        eta = figures["eta_seconds"]
        figures["eta_text"] = _("unknown (no provider available now)") if eta is None else enrichment.duration_text(eta)
        for provider in (*figures["providers"].values(), figures["pipefy"]):
            provider["state_text"] = PROVIDER_STATES.get(provider["state"], provider["state"])
        figures["pipefy_waiting"] = figures["pipefy"]["queued"] + figures["pipefy"]["in_progress"]
        return super().changelist_view(request, {**(extra_context or {}), "enrichment": figures})

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- background work: the same tasks as the API ---------------------------------------------
    actions = ("refresh_from_registry", "push_to_pipefy")

    @admin.action(description=_("Re-enrich selected companies from the registry"), permissions=["change"])
    def refresh_from_registry(self, request, queryset):
        now = timezone.now()
        skips = (
            Skip(Q(enrichment_claimed_until__gt=now), LOOKUP_RUNNING),
            Skip(Q(enrichment_due_at__lte=now), LOOKUP_WAITING),
        )
        self._queue_selected(request, queryset, company_tasks.company_enrichment_enqueue, skips, LOOKUPS_QUEUED)

    @admin.action(description=_("Push selected companies to Pipefy"), permissions=["change"])
    def push_to_pipefy(self, request, queryset):
        if not enrichment.pipefy_configured():
            self.message_user(request, PIPEFY_NOT_CONFIGURED, messages.ERROR)
            return
        now = timezone.now()
        skips = (
            Skip(~Q(pipefy_card_id=""), HAS_CARD),
            Skip(Q(pipefy_claimed_until__gt=now), PUSH_RUNNING),
            Skip(Q(pipefy_due_at__lte=now), PUSH_WAITING),
        )
        self._queue_selected(request, queryset, company_tasks.company_pipefy_enqueue, skips, PUSHES_QUEUED)

    def _queue_selected(self, request, queryset, enqueue, skips, queued_text):
        """Queue `enqueue(cnpj=...)` for each selected company no skip matches; one message says
        how many were queued and how many skipped, and why. The queue is checked first, so an
        outage is one clear message, not a page error."""
        try:
            broker_check()
        except ServiceUnavailable:
            self.message_user(request, QUEUE_DOWN, messages.ERROR)
            return
        selection = split_selection(queryset, skips)
        cnpjs = list(selection.remaining.values_list("cnpj", flat=True))
        queued, level = 0, messages.SUCCESS
        for cnpj in cnpjs:
            try:
                enqueue(cnpj=cnpj)
            except ServiceUnavailable:
                left = len(cnpjs) - queued
                selection.skip(left, QUEUE_STOPPED % {"count": left})
                level = messages.ERROR
                break
            queued += 1
        if not queued and level == messages.SUCCESS:
            level = messages.WARNING
        self.message_user(request, selection.message(queued_text % {"count": queued}), level)

    # --- history in words: the API's changes (selectors), formatted for reading ------------------
    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user").order_by("-history_id")

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Not used: the rows in words (history_rows) say what changed."""

    def render_history_view(self, request, template, context, **kwargs):
        if "page_obj" in context:  # the history list (the version pages have no list)
            context["history_rows"] = self.history_rows(context["page_obj"], context["object"])
        return super().render_history_view(request, template, context, **kwargs)

    def history_rows(self, page, company) -> list[HistoryRow]:
        records = page.object_list = list(page.object_list)
        if not records:
            return []
        previous = selectors.company_history_previous(company=company, before_history_id=records[-1].history_id)
        rows = []
        for record, changes in selectors.company_history_with_changes(records, previous):
            kind = HISTORY_TYPES.get(record.history_type, record.history_type)
            lines = changes_in_words(
                Company,
                ((change["field"], change["old"], change["new"]) for change in changes),
                created=kind == "created",
                formatters=HISTORY_FORMATTERS,
            )
            rows.append(
                HistoryRow(
                    when=record.history_date,
                    kind=kind,
                    actor=actor_in_words(record.history_actor, user=record.history_user),
                    changes=lines,
                    url=reverse("admin:companies_company_simple_history", args=[company.pk, record.history_id]),
                )
            )
        return rows

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history shows a version to whoever may view the history, and saves a POST from
        # them too: reverting is a change, so it needs the change permission.
        if request.method == "POST" and not self.has_change_history_permission(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    # --- display ----------------------------------------------------------------------------
    def get_readonly_fields(self, request, obj=None):
        return (*_READ_ONLY, "cnpj") if obj is not None else _READ_ONLY

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            # Adding: the registry section and timestamps are empty until the record exists.
            return self.fieldsets[:4]
        # A stored record shows its read-only values formatted: the CNPJ (it cannot change) and, to
        # someone who may only view, the CEP and the share capital too.
        shown = {"cnpj": "cnpj_formatted"}
        if not self.has_change_permission(request, obj):
            shown |= {"zip_code": "zip_code_formatted", "share_capital": "share_capital_formatted"}
        return [
            (title, {**options, "fields": tuple(shown.get(name, name) for name in options["fields"])})
            for title, options in self.fieldsets
        ]

    @admin.display(description=_("CNPJ"), ordering="cnpj")
    def cnpj_formatted(self, company):
        return formatting.format_cnpj(company.cnpj)

    @admin.display(description=_("CEP"), ordering="zip_code")
    def zip_code_formatted(self, company):
        return formatting.format_cep(company.zip_code) or None

    @admin.display(description=_("share capital"), ordering="share_capital")
    def share_capital_formatted(self, company):
        return formatting.format_brl(company.share_capital) or None

    @admin.display(description=_("city/UF"), ordering="city")
    def city_uf(self, company):
        return "/".join(part for part in (company.city, company.state) if part)

    @admin.display(description=_("CNPJ root"))
    def root(self, company):
        return company.root

    @admin.display(description=_("head office"), boolean=True)
    def is_head_office(self, company):
        return company.is_head_office

    @admin.display(description=_("raw registry payload"))
    def registry_payload_pretty(self, company):
        if company.registry_payload is None:
            return "-"
        text = json.dumps(company.registry_payload, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html(
            '<pre class="registry-payload" style="white-space: pre-wrap; max-height: 30em; overflow: auto">{}</pre>',
            text,
        )

    def get_search_results(self, request, queryset, search_term):
        by_name, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        prefix = cnpj_value.compact(search_term) if search_term else ""
        if prefix and prefix.isascii() and prefix.isalnum() and len(prefix) <= cnpj_value.LENGTH:
            # `queryset` already carries the list filters; both halves keep them.
            return by_name | queryset.filter(Q(cnpj__startswith=prefix)), may_have_duplicates
        return by_name, may_have_duplicates

    # --- writes: the same services as the API -------------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceUnavailable:
            # The queue went down between the form check and the save: the save was rolled back.
            self.message_user(request, QUEUE_DOWN_MESSAGE, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        except StaleEdit as exc:
            # Changed between the form's check and the save (under the row lock): nothing saved.
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            # A change form sends only what the user changed (so a concurrent change to another
            # field survives); reverting to a past version (the history form) sends all of it.
            match = request.resolver_match
            reverting = match is not None and match.url_name == "companies_company_simple_history"
            if not reverting:
                touched = {*form.changed_data, *form.rows_changed()}
                fields = {name: value for name, value in fields.items() if name in touched}
            precondition = None if reverting else form.precondition()
            company = services.company_update(company=obj, precondition=precondition, **fields)
        else:
            company = services.company_create(cnpj=form.cleaned_data["cnpj"], **fields)
        obj.__dict__.update(company.__dict__)
