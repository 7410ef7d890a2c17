"""API representations of a company and the bodies accepted to create or change one."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from rest_framework import serializers

from companies.models import BOOKKEEPING_FIELDS, UF_CHOICES, Company
from companies.services import EDITABLE_FIELDS
from core.serializers import NOT_STORED, not_writable_errors, shape_checked
from integrations import guard
from integrations.cnpj.types import RegistrationStatus

DERIVED_FIELDS = ("url", "cnpj_formatted", "root", "is_head_office")
OUTPUT_FIELDS = (
    DERIVED_FIELDS[0],
    "cnpj",
    *DERIVED_FIELDS[1:],
    *EDITABLE_FIELDS,
    *BOOKKEEPING_FIELDS,
    "created_at",
    "updated_at",
)
READ_ONLY_FIELDS = (*DERIVED_FIELDS, *BOOKKEEPING_FIELDS, "created_at", "updated_at")


class CNPJField(serializers.CharField):
    """Raw or formatted, letters in any case (the service says whether format, length or digits fail)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)


class UnknownKeysRefused:
    """A nested object with a key the serializer does not know is a 400 naming it, not dropped."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and (unknown := sorted(set(data) - set(self.fields))):
            raise serializers.ValidationError(
                {name: [serializers.ErrorDetail("Unknown key.", code="unknown")] for name in unknown}
            )
        return super().to_internal_value(data)


class ActivitySerializer(UnknownKeysRefused, serializers.Serializer):
    code = serializers.CharField(max_length=20)
    description = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")


class PartnerSerializer(UnknownKeysRefused, serializers.Serializer):
    name = serializers.CharField(max_length=255)
    role = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")
    since = serializers.DateField(allow_null=True, required=False, default=None)


class FieldsBuiltOnceMixin:
    """Builds a ModelSerializer's fields from the model once per class, then gives each instance
    fresh copies (as plain Serializers do with their declared fields). Building them from model
    metadata on every instance was most of the serializer's cost in an uncached retrieve."""

    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_fields_prototype")
        if prototype is None:
            prototype = super().get_fields()
            cls._fields_prototype = prototype
        return copy.deepcopy(prototype)


class CompanySerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    # Blank is a valid stored value for these two: say so in the schema (no email format, UF or blank).
    email = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=UF_CHOICES, allow_blank=True, read_only=True)
    cnpj_formatted = serializers.CharField(read_only=True)
    root = serializers.CharField(read_only=True)
    is_head_office = serializers.BooleanField(read_only=True)

    class Meta:
        model = Company
        fields = OUTPUT_FIELDS
        read_only_fields = OUTPUT_FIELDS

    def get_url(self, company) -> str:
        # Built from one base URL per response rather than a reverse() per row.
        return f"{self.context['companies_url']}{company.cnpj}/"


class CompanyListSerializer(CompanySerializer):
    """List rows leave out the raw registry payload (it can be large); the detail has it."""

    class Meta(CompanySerializer.Meta):
        fields = tuple(name for name in OUTPUT_FIELDS if name != "registry_payload")
        read_only_fields = fields


class _CompanyInputSerializer(serializers.ModelSerializer):
    """Editable fields only. An unknown field is refused; a read-only one is refused unless it
    repeats the stored value (so a client may PUT back what it read)."""

    # (The docstring above is the schema's description.) This serializer checks shape only: the
    # fields above and each value's JSON type. The rules on the values (CNPJ check digits,
    # formats, choices, lengths, what the lists hold) are the service's
    # (companies.services.company_field_cleaner); its ValidationError answers 400 naming the
    # field (core.exceptions.api_validation_error). The fields, built from the model, describe
    # the body in the OpenAPI schema.

    secondary_activities = serializers.ListField(child=ActivitySerializer(), required=False)
    partners = serializers.ListField(child=PartnerSerializer(), required=False)

    class Meta:
        model = Company
        fields = ("cnpj", *EDITABLE_FIELDS)

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON object of company fields."]}, code="invalid"
            )
        data = data.dict() if hasattr(data, "dict") else dict(data)
        self._refuse_fields_not_writable(data)
        return shape_checked(self, data)

    def _refuse_fields_not_writable(self, data):
        if self.instance is not None:
            readable = CompanySerializer(self.instance, context=self.context).data
        else:
            readable = dict.fromkeys(READ_ONLY_FIELDS, NOT_STORED)
        if errors := not_writable_errors(data, writable=self.fields, readable=readable):
            raise serializers.ValidationError(errors)


class CompanyCreateSerializer(_CompanyInputSerializer):
    cnpj = CNPJField()
    enrich = serializers.BooleanField(
        default=True, write_only=True, help_text="Queue the registry enrichment (default true)."
    )

    class Meta(_CompanyInputSerializer.Meta):
        fields = (*_CompanyInputSerializer.Meta.fields, "enrich")


class CompanyUpdateSerializer(_CompanyInputSerializer):
    cnpj = CNPJField(required=False)


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class CompanyVersionSerializer(serializers.Serializer):
    """One version of a company: when, what kind of change, by whom, and which fields changed."""

    history_id = serializers.IntegerField()
    history_date = serializers.DateTimeField()
    history_type = serializers.SerializerMethodField()
    actor = serializers.CharField(source="history_actor")
    user = serializers.SerializerMethodField()
    changes = HistoryChangeSerializer(many=True)

    TYPES = {"+": "created", "~": "updated", "-": "deleted"}

    def get_history_type(self, record) -> str:
        return self.TYPES.get(record.history_type, record.history_type)

    def get_user(self, record) -> str | None:
        return record.history_user.get_username() if record.history_user_id else None


class CompanyCreatedSerializer(CompanySerializer):
    enrichment = serializers.JSONField(
        allow_null=True, help_text="The queued registry enrichment ({task_id, status}), or null."
    )

    class Meta(CompanySerializer.Meta):
        fields = (*OUTPUT_FIELDS, "enrichment")
        read_only_fields = fields


# --- the registry lookup and the enrichment figures ------------------------------------------
class RegistryActivitySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="CNAE, 7 digits")
    description = serializers.CharField()


class RegistryPartnerSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField()
    since = serializers.DateField(allow_null=True)


class RegistryAddressSerializer(serializers.Serializer):
    street = serializers.CharField()
    number = serializers.CharField()
    complement = serializers.CharField()
    district = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField(help_text="UF")
    zip_code = serializers.CharField(help_text="CEP, 8 digits")
    ibge_code = serializers.CharField()


class RegistryRecordSerializer(serializers.Serializer):
    cnpj = serializers.CharField()
    legal_name = serializers.CharField()
    trade_name = serializers.CharField()
    registration_status = serializers.ChoiceField(choices=RegistrationStatus.values)
    status_date = serializers.DateField(allow_null=True)
    opened_on = serializers.DateField(allow_null=True)
    legal_nature = serializers.CharField()
    size = serializers.CharField()
    share_capital = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True, coerce_to_string=True)
    main_activity = RegistryActivitySerializer(allow_null=True)
    secondary_activities = RegistryActivitySerializer(many=True)
    partners = RegistryPartnerSerializer(many=True)
    address = RegistryAddressSerializer()
    email = serializers.CharField()
    phone = serializers.CharField()
    source = serializers.CharField(help_text="The provider that answered: brasilapi, receitaws or cnpja.")
    fetched_at = serializers.DateTimeField(help_text="When the provider was asked (answers are cached).")


class ProviderStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=guard.STATES, help_text="cooling_down: after a 429; open: after repeated failures"
    )
    until = serializers.DateTimeField(allow_null=True, help_text="When a cooling_down or open state ends.")
    used = serializers.IntegerField(allow_null=True, help_text="Calls in the current rate window (all workers).")
    limit = serializers.IntegerField(allow_null=True, help_text="Calls allowed per window; null: no limit.")
    window_seconds = serializers.IntegerField(allow_null=True)


class PipefyBacklogSerializer(ProviderStateSerializer):
    queued = serializers.IntegerField(help_text="Pushes waiting (due now or later).")
    in_progress = serializers.IntegerField(help_text="Pushes claimed by a worker right now.")
    with_card = serializers.IntegerField(help_text="Companies that have their Pipefy card.")
    failed = serializers.IntegerField(help_text="Companies whose push failed for good (see pipefy_error).")
    rate_per_minute = serializers.FloatField()
    eta_seconds = serializers.IntegerField(allow_null=True)


class EnrichmentStatusSerializer(serializers.Serializer):
    """The enrichment backlog: companies by outcome, the queue, its pace and the providers' state."""

    pending = serializers.IntegerField(help_text="Companies never found yet: waiting for a lookup.")
    in_progress = serializers.IntegerField(help_text="Lookups claimed by a worker right now.")
    ok = serializers.IntegerField()
    not_found = serializers.IntegerField(help_text="Every provider was asked and none knows the CNPJ.")
    failed = serializers.IntegerField(help_text="Permanent errors, or given up after TASK_MAX_RETRIES failures.")
    queued = serializers.IntegerField(help_text="Lookups waiting, due now or later (new companies and refreshes).")
    rate_per_minute = serializers.FloatField(help_text="Lookups a minute the providers allow now (those not paused).")
    eta_seconds = serializers.IntegerField(
        allow_null=True, help_text="queued + in_progress at that rate; null: no provider available."
    )
    providers = serializers.DictField(child=ProviderStateSerializer(), help_text="By provider name.")
    pipefy = PipefyBacklogSerializer()
