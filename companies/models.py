"""Company: a Brazilian legal entity keyed by CNPJ. Queried, inserted, updated; never deleted."""

import pgtrigger
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from access.history import ActorHistoryFields, get_history_user
from companies import cnpj as cnpj_value
from companies.values import UFS, validate_activities, validate_partners
from integrations.cnpj.types import RegistrationStatus

_seven_digits = RegexValidator(r"^[0-9]{7}$", _("Enter 7 digits."), code="invalid")
_eight_digits = RegexValidator(r"^[0-9]{8}$", _("Enter the 8 digits of the CEP."), code="invalid")


class EnrichmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    OK = "ok", _("OK")
    NOT_FOUND = "not_found", _("Not found in the registry")
    FAILED = "failed", _("Failed")


UF_CHOICES = [(uf, uf) for uf in UFS]

# Set only by the registry enrichment and the Pipefy integration (services), never by clients.
BOOKKEEPING_FIELDS = (
    "registry_source",
    "registry_synced_at",
    "enrichment_status",
    "enrichment_error",
    "registry_payload",
    "pipefy_card_id",
    "pipefy_error",
)
# The two work queues (registry enrichment, Pipefy push) kept on the row itself: a company whose
# `*_due_at` is set has work due then; a worker claims it for a while (`*_claimed_until`) with
# FOR UPDATE SKIP LOCKED (companies.backlog). Plumbing only: not in the API, not in the history.
QUEUE_FIELDS = (
    "enrichment_due_at",
    "enrichment_claimed_until",
    "enrichment_attempts",
    "pipefy_due_at",
    "pipefy_claimed_until",
    "pipefy_attempts",
)


class Company(models.Model):
    # On PostgreSQL the unique CharField also gets a varchar_pattern_ops index, which serves the
    # CNPJ prefix lookups (`root`, `search`).
    cnpj = models.CharField(
        _("CNPJ"),
        max_length=cnpj_value.LENGTH,
        unique=True,
        validators=[cnpj_value.validate_cnpj],
        help_text=_("14 characters, compact upper-case form; immutable."),
    )
    legal_name = models.CharField(_("legal name"), max_length=255, blank=True)
    trade_name = models.CharField(_("trade name"), max_length=255, blank=True)
    registration_status = models.CharField(
        _("registration status"), max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.UNKNOWN
    )
    status_date = models.DateField(_("status date"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    legal_nature = models.CharField(_("legal nature"), max_length=255, blank=True)
    size = models.CharField(_("size"), max_length=100, blank=True)
    share_capital = models.DecimalField(
        _("share capital"), max_digits=20, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    main_activity_code = models.CharField(_("main CNAE code"), max_length=7, blank=True, validators=[_seven_digits])
    main_activity_description = models.CharField(_("main CNAE description"), max_length=255, blank=True)
    secondary_activities = models.JSONField(
        _("secondary activities"),
        default=list,
        blank=True,
        help_text=_("[{code, description}]"),
        validators=[validate_activities],
    )
    partners = models.JSONField(
        _("partners"), default=list, blank=True, help_text=_("[{name, role, since}]"), validators=[validate_partners]
    )

    street = models.CharField(_("street"), max_length=255, blank=True)
    street_number = models.CharField(_("street number"), max_length=30, blank=True)
    complement = models.CharField(_("complement"), max_length=255, blank=True)
    district = models.CharField(_("district"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    state = models.CharField(_("UF"), max_length=2, choices=UF_CHOICES, blank=True)
    zip_code = models.CharField(_("CEP"), max_length=8, blank=True, validators=[_eight_digits])
    city_ibge_code = models.CharField(_("IBGE city code"), max_length=7, blank=True, validators=[_seven_digits])
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    registry_source = models.CharField(_("registry source"), max_length=50, blank=True)
    registry_synced_at = models.DateTimeField(_("registry synced at"), null=True, blank=True)
    enrichment_status = models.CharField(
        _("enrichment status"), max_length=10, choices=EnrichmentStatus.choices, default=EnrichmentStatus.PENDING
    )
    enrichment_error = models.TextField(_("enrichment error"), blank=True)
    registry_payload = models.JSONField(
        _("registry payload"), null=True, blank=True, help_text=_("The raw upstream registry answer, kept for audit.")
    )
    pipefy_card_id = models.CharField(_("Pipefy card id"), max_length=64, blank=True)
    pipefy_error = models.TextField(
        _("Pipefy error"), blank=True, help_text=_("Why the last Pipefy push failed for good.")
    )

    enrichment_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    enrichment_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    enrichment_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    pipefy_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    pipefy_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    pipefy_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # History is read by company id only; an index on its cnpj copy would only slow every insert.
    history = HistoricalRecords(
        bases=[ActorHistoryFields],
        get_user=get_history_user,
        no_db_index=["cnpj"],
        excluded_fields=list(QUEUE_FIELDS),
    )

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["cnpj"]
        indexes = [
            models.Index(fields=["registration_status"], name="company_status_idx"),
            models.Index(fields=["state"], name="company_state_idx"),
            models.Index(Upper("city"), name="company_city_upper_idx"),
            models.Index(fields=["main_activity_code"], name="company_cnae_idx"),
            models.Index(fields=["enrichment_status"], name="company_enrichment_idx"),
            # Keyset pagination orders by (field, id); these serve the orderings and updated_after.
            models.Index(fields=["updated_at", "id"], name="company_updated_idx"),
            models.Index(fields=["legal_name", "id"], name="company_legal_name_idx"),
            # `search` on names has a trigram index, PostgreSQL only: see migration 0003.
            # The queues: only companies with work due are indexed, in the order they are claimed.
            models.Index(
                fields=["enrichment_due_at"],
                name="company_enrichment_due_idx",
                condition=models.Q(enrichment_due_at__isnull=False),
            ),
            models.Index(
                fields=["pipefy_due_at"], name="company_pipefy_due_idx", condition=models.Q(pipefy_due_at__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cnpj__regex=cnpj_value.COMPACT_PATTERN), name="company_cnpj_compact"
            ),
            models.CheckConstraint(
                condition=models.Q(registration_status__in=[status.value for status in RegistrationStatus]),
                name="company_registration_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(enrichment_status__in=EnrichmentStatus.values),
                name="company_enrichment_status_valid",
            ),
            models.CheckConstraint(condition=models.Q(state__in=["", *UFS]), name="company_state_is_uf"),
            models.CheckConstraint(
                condition=models.Q(share_capital__isnull=True) | models.Q(share_capital__gte=0),
                name="company_share_capital_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(zip_code="") | models.Q(zip_code__regex=r"^[0-9]{8}$"),
                name="company_zip_code_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(main_activity_code="") | models.Q(main_activity_code__regex=r"^[0-9]{7}$"),
                name="company_cnae_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(city_ibge_code="") | models.Q(city_ibge_code__regex=r"^[0-9]{7}$"),
                name="company_ibge_code_digits",
            ),
        ]
        triggers = [
            # Companies are never deleted: not by the ORM, not by raw SQL.
            pgtrigger.Protect(name="company_protect_delete", operation=pgtrigger.Delete),
            # The CNPJ is the identity of the record; it cannot change once stored.
            pgtrigger.ReadOnly(name="company_cnpj_read_only", fields=["cnpj", "created_at"]),
        ]

    def __str__(self) -> str:
        name = self.trade_name or self.legal_name
        return f"{self.cnpj_formatted} {name}".strip()

    @property
    def cnpj_formatted(self) -> str:
        return cnpj_value.format_cnpj(self.cnpj)

    @property
    def root(self) -> str:
        """The company root: the first 8 characters, shared by the head office and its branches."""
        return cnpj_value.root(self.cnpj)

    @property
    def is_head_office(self) -> bool:
        return cnpj_value.is_head_office(self.cnpj)
