"""Back office for companies: search, filters, history; writes go through companies.services."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Substr
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from companies import cnpj as cnpj_value
from companies import enrichment, formatting, services
from companies import tasks as company_tasks
from companies.models import BOOKKEEPING_FIELDS, Company
from companies.values import NORMALIZERS
from core.admin_versions import StaleEdit, VersionedFormMixin
from core.exceptions import ServiceUnavailable
from integrations.guard import COOLING_DOWN, OK, OPEN
from tasks.services import broker_check

# The API's messages stay English (core.localization); the back office says the same in its language.
QUEUE_DOWN_MESSAGE = _("The task queue is unavailable: nothing was queued and nothing was stored. Try again shortly.")
PIPEFY_NOT_CONFIGURED_MESSAGE = _(
    "Pipefy is not configured on this server (PIPEFY_TOKEN and PIPEFY_PIPE_ID); nothing was queued."
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
    # Wider than the stored 14 characters: the formatted form (18) and separators are accepted.
    cnpj = forms.CharField(label=_("CNPJ"), max_length=32, help_text=_("Raw or formatted; letters in any case."))

    class Meta:
        model = Company
        fields = ("cnpj", *services.EDITABLE_FIELDS)
        help_texts = {
            "share_capital": _("In reais, with a dot before the cents: 1234.56."),
            "zip_code": _("8 digits, with or without the dash: 01310-100."),
        }

    def full_clean(self):
        if self.is_bound:
            data = self.data.copy()
            for name, normalize in NORMALIZERS.items():
                value = data.get(name)
                if isinstance(value, str) and name not in ("secondary_activities", "partners"):
                    data[name] = normalize(value)
            self.data = data
        super().full_clean()

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.errors:
            # Adding queues the registry enrichment: say so here, with the form kept, rather
            # than fail the save when the task queue is down.
            try:
                broker_check()
            except ServiceUnavailable as exc:
                raise ValidationError(QUEUE_DOWN_MESSAGE, code="service_unavailable") from exc
        return cleaned

    def clean_cnpj(self):
        try:
            return services.cnpj_clean(self.cleaned_data["cnpj"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["cnpj"]) from exc


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


@admin.register(Company)
class CompanyAdmin(SimpleHistoryAdmin):
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
    list_filter = ("registration_status", "state", "enrichment_status", HeadOfficeFilter)
    search_fields = ("legal_name", "trade_name")
    search_help_text = _("CNPJ (raw or formatted, or its beginning), legal name or trade name.")
    ordering = ("cnpj",)
    list_per_page = 50
    show_full_result_count = False
    history_list_display = ("history_actor",)
    fieldsets = (
        (None, {"fields": ("cnpj", "legal_name", "trade_name", "version")}),
        (
            _("Registration"),
            {"fields": ("registration_status", "status_date", "opened_on", "legal_nature", "size", "share_capital")},
        ),
        (
            _("Activities and partners"),
            {"fields": ("main_activity_code", "main_activity_description", "secondary_activities", "partners")},
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

    @admin.action(description=_("Refresh selected companies from the registry"), permissions=["change"])
    def refresh_from_registry(self, request, queryset):
        self._enqueue_each(request, queryset, company_tasks.company_enrichment_enqueue, _("registry refresh(es)"))

    @admin.action(description=_("Push selected companies to Pipefy"), permissions=["change"])
    def push_to_pipefy(self, request, queryset):
        if not enrichment.pipefy_configured():
            self.message_user(request, PIPEFY_NOT_CONFIGURED_MESSAGE, messages.ERROR)
            return
        carded = queryset.exclude(pipefy_card_id="").count()
        uncarded = queryset.filter(pipefy_card_id="")
        self._enqueue_each(request, uncarded, company_tasks.company_pipefy_enqueue, _("Pipefy push(es)"))
        if carded:
            message = ngettext(
                "%(count)d already had a Pipefy card; left alone.",
                "%(count)d already had a Pipefy card; left alone.",
                carded,
            ) % {"count": carded}
            self.message_user(request, message, messages.INFO)

    def _enqueue_each(self, request, queryset, enqueue, label):
        queued = 0
        for cnpj in queryset.values_list("cnpj", flat=True):
            try:
                enqueue(cnpj=cnpj)
            except ServiceUnavailable:
                message = _("The task queue is unavailable; %(count)d %(label)s queued.")
                self.message_user(request, message % {"count": queued, "label": label}, messages.ERROR)
                return
            queued += 1
        message = _("%(count)d %(label)s queued; see Task results for progress.")
        self.message_user(request, message % {"count": queued, "label": label}, messages.SUCCESS)

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

    @admin.display(description=_("head office"), boolean=True)
    def is_head_office(self, company):
        return company.is_head_office

    @admin.display(description=_("raw registry payload"))
    def registry_payload_pretty(self, company):
        if company.registry_payload is None:
            return "-"
        text = json.dumps(company.registry_payload, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html('<pre style="white-space: pre-wrap; max-height: 30em; overflow: auto">{}</pre>', text)

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
                fields = {name: value for name, value in fields.items() if name in form.changed_data}
            precondition = None if reverting else form.precondition()
            company = services.company_update(company=obj, precondition=precondition, **fields)
        else:
            company = services.company_create(cnpj=form.cleaned_data["cnpj"], **fields)
        obj.__dict__.update(company.__dict__)
