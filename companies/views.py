"""The companies API: list, create, retrieve, update, history (never delete); the registry
lookup; the enrichment backlog's figures."""

from __future__ import annotations

import functools
import math

from django.http import HttpResponse
from django.urls import get_script_prefix, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from companies import cache as company_cache
from companies import cnpj as cnpj_value
from companies import enrichment, representation, selectors, services
from companies import tasks as company_tasks
from companies.filters import CompanyFilter
from companies.models import Company, EnrichmentStatus, RegistrationStatus
from companies.pagination import CompanyHistoryPagination, CompanyPagination
from companies.serializers import (
    CompanyCreatedSerializer,
    CompanyCreateSerializer,
    CompanyListSerializer,
    CompanySerializer,
    CompanyUpdateSerializer,
    CompanyVersionSerializer,
    EnrichmentStatusSerializer,
    RegistryRecordSerializer,
)
from core import etags, prefetch
from core.etags import check_if_match, etag_of, has_if_match, json_with_etag
from core.exceptions import Conflict, ServiceUnavailable
from core.views import ContentNegotiation, SharedComponentsMixin
from integrations.errors import IntegrationError, NotFound
from integrations.selectors import registry_record_get
from tasks.serializers import TaskQueuedSerializer

NEVER_DELETED = (
    "Companies are never deleted; update the record (for example its registration status) instead."
)
LIST_PARAMETERS = frozenset({"cursor", "page_size", "ordering"})


@functools.cache
def _companies_path(script_prefix: str) -> str:
    """The list's path (reverse() resolves it anew on every call); one per script prefix."""
    return reverse("company-list")


def _json(body: bytes, status_code: int = 200, **headers) -> HttpResponse:
    response = HttpResponse(body, status=status_code, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response


CNPJ_PATH = OpenApiParameter(
    "cnpj", OpenApiTypes.STR, OpenApiParameter.PATH, pattern="^[0-9A-Za-z]{14}$",
    description="The 14-character CNPJ without separators, letters in any case (e.g. 12ABC34501DE35). "
    "A string that is not a valid CNPJ answers 404.",
)
LIST_QUERY = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=[c.value for c in RegistrationStatus],
                     description="Registration status (any case)."),
    OpenApiParameter("state", OpenApiTypes.STR, description="UF, two letters (any case)."),
    OpenApiParameter("city", OpenApiTypes.STR, description="City, ignoring case."),
    OpenApiParameter("cnae", OpenApiTypes.STR, description="Main activity CNAE, 7 digits or formatted."),
    OpenApiParameter("root", OpenApiTypes.STR, description="CNPJ root: the first 8 characters."),
    OpenApiParameter("enrichment_status", OpenApiTypes.STR, enum=[c.value for c in EnrichmentStatus]),
    OpenApiParameter("updated_after", OpenApiTypes.DATETIME, description="Changed strictly after (ISO 8601)."),
    OpenApiParameter("search", OpenApiTypes.STR, description="Names containing it, or a CNPJ starting with it."),
    # ordering, page_size and cursor: documented by CompanyPagination.
]


@extend_schema_view(
    list=extend_schema(summary="List companies", parameters=LIST_QUERY,
                       responses={200: CompanyListSerializer(many=True)}),
    create=extend_schema(
        summary="Add a company",
        request=CompanyCreateSerializer,
        responses={201: CompanyCreatedSerializer},
    ),
    retrieve=extend_schema(summary="One company", parameters=[CNPJ_PATH, *etags.READ_PARAMETERS],
                           responses={200: CompanySerializer, 304: etags.NOT_MODIFIED}),
    update=extend_schema(
        summary="Replace a company's editable fields (the CNPJ cannot change)",
        parameters=[CNPJ_PATH, *etags.WRITE_PARAMETERS],
        request=CompanyUpdateSerializer, responses={200: CompanySerializer, 412: etags.STALE},
    ),
    partial_update=extend_schema(
        summary="Change some of a company's editable fields", parameters=[CNPJ_PATH, *etags.WRITE_PARAMETERS],
        request=CompanyUpdateSerializer, responses={200: CompanySerializer, 412: etags.STALE},
    ),
    history=extend_schema(
        summary="A company's versions, newest first, with what changed and who changed it",
        parameters=[CNPJ_PATH],  # page_size and cursor: documented by CompanyHistoryPagination
        responses={200: CompanyVersionSerializer(many=True)},
    ),
    refresh=extend_schema(parameters=[CNPJ_PATH]),
    pipefy=extend_schema(parameters=[CNPJ_PATH]),
)
class CompanyViewSet(SharedComponentsMixin, viewsets.ViewSet):
    lookup_field = "cnpj"
    lookup_value_converter = "cnpj"
    content_negotiation_class = ContentNegotiation
    renderer = JSONRenderer()
    pagination_class = CompanyPagination

    def get_queryset(self):
        # Only for DjangoModelPermissions (JWT users need companies.add/change_company to write).
        return Company.objects.all()

    # --- plumbing -------------------------------------------------------------------------
    def http_method_not_allowed(self, request, *args, **kwargs):
        if request.method == "DELETE":
            raise exceptions.MethodNotAllowed("DELETE", detail=NEVER_DELETED)
        return super().http_method_not_allowed(request, *args, **kwargs)

    def cache_reads(self, request) -> tuple[str, ...]:
        """The cache entries this answer starts from; the throttle reads them as it counts the
        request (core.prefetch)."""
        if self.action == "retrieve":
            return company_cache.detail_keys(self.kwargs["cnpj"], site=self._site())
        if self.action == "list":
            return (company_cache.LIST_GENERATION_KEY,)
        return ()

    def _companies_url(self) -> str:
        return self._site() + _companies_path(get_script_prefix())

    def _context(self) -> dict:
        return {"request": self.request, "companies_url": self._companies_url()}

    def _render(self, data) -> bytes:
        return self.renderer.render(data)

    def _document(self, cnpj: str) -> bytes:
        """The company's answer as stored now (the bytes its ETag is made of)."""
        row = selectors.company_get_values(cnpj=cnpj, fields=representation.VALUE_FIELDS)
        if row is None:
            raise exceptions.NotFound(f"No company with CNPJ {cnpj}.")
        return self._render(representation.company_document(row, companies_url=self._companies_url()))

    def _company_or_404(self, cnpj: str) -> Company:
        company = selectors.company_get(cnpj=cnpj)
        if company is None:
            raise exceptions.NotFound(f"No company with CNPJ {cnpj}.")
        return company

    def _site(self) -> str:
        # Once per request (a view instance serves one request): the host is validated each time.
        site = self.__dict__.get("_site_url")
        if site is None:
            site = self._site_url = f"{self.request.scheme}://{self.request.get_host()}"
        return site

    # --- endpoints ------------------------------------------------------------------------
    def list(self, request):
        known = LIST_PARAMETERS | set(CompanyFilter.base_filters)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown query parameter."] for name in unknown})
        found = prefetch.entries(request, self.cache_reads(request))
        lookup = company_cache.list_lookup(request.build_absolute_uri(), found=found)
        if lookup.body is not None:
            return _json(lookup.body)
        paginator = self.pagination_class()
        companies = paginator.paginate_queryset(selectors.company_list(filters=request.query_params), request, self)
        results = CompanyListSerializer(companies, many=True, context=self._context()).data
        body = self._render(paginator.get_paginated_data(results))
        company_cache.store(lookup, body)
        return _json(body)

    def retrieve(self, request, cnpj):
        if request.META.get("QUERY_STRING") and (unknown := sorted(request.query_params)):
            raise exceptions.ValidationError({name: ["Unknown query parameter."] for name in unknown})
        found = prefetch.entries(request, self.cache_reads(request))
        lookup = company_cache.detail_lookup(cnpj, site=self._site(), found=found)
        if lookup.body is not None:
            return json_with_etag(request, lookup.body)
        body = self._document(cnpj)
        company_cache.store(lookup, body)
        return json_with_etag(request, body)

    def create(self, request):
        serializer = CompanyCreateSerializer(data=request.data, context=self._context())
        serializer.is_valid(raise_exception=True)
        try:
            company = services.company_create(**serializer.validated_data)
        except services.CompanyAlreadyExists as exc:
            existing_url = f"{self._companies_url()}{exc.company.cnpj}/"
            detail = {"cnpj": [ErrorDetail(str(exc), code="company_exists")]}
            raise Conflict(detail, field="cnpj", extra={"existing_url": existing_url}) from None
        data = CompanySerializer(company, context=self._context()).data
        data["enrichment"] = getattr(company, "enrichment", None)
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": str(data["url"])})

    def update(self, request, cnpj, partial=False):
        company = self._company_or_404(cnpj)
        serializer = CompanyUpdateSerializer(
            company, data=request.data, partial=partial, context=self._context()
        )
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)  # a `cnpj` repeating the stored one is the service's to check
        if not partial:
            # PUT replaces the editable fields: what the body leaves out goes back to its default.
            for name in services.EDITABLE_FIELDS:
                fields.setdefault(name, Company._meta.get_field(name).get_default())
        precondition = None
        if has_if_match(request):
            # Checked under the write's row lock, against what is stored now: of two writes
            # holding the same ETag, only the first lands.
            def precondition(locked: Company) -> None:
                check_if_match(request, etag_of(self._document(locked.cnpj)))

        company = services.company_update(company=company, precondition=precondition, **fields)
        return json_with_etag(request, self._document(company.cnpj))

    def partial_update(self, request, cnpj):
        return self.update(request, cnpj, partial=True)

    @action(detail=True, methods=["get"], pagination_class=CompanyHistoryPagination)
    def history(self, request, cnpj):
        company = self._company_or_404(cnpj)
        if unknown := sorted(set(request.query_params) - {"page_size", "cursor"}):
            raise exceptions.ValidationError({name: ["Unknown query parameter."] for name in unknown})
        paginator = self.pagination_class()
        records = paginator.paginate_queryset(selectors.company_history(company=company), request, self)
        previous = None
        if records:
            previous = selectors.company_history_previous(
                company=company, before_history_id=records[-1].history_id
            )
        for record, changes in selectors.company_history_with_changes(records, previous):
            record.changes = changes
        return paginator.get_paginated_response(CompanyVersionSerializer(records, many=True).data)

    # --- background work (companies.tasks) ----------------------------------------------------
    def _queued(self, enqueued) -> Response:
        status_url = self.request.build_absolute_uri(reverse("task-status", args=[enqueued.task_id]))
        body = {**enqueued.as_dict(), "status_url": status_url}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": status_url})

    @extend_schema(request=None, responses={202: TaskQueuedSerializer}, summary="Refresh from the registry")
    @action(detail=True, methods=["post"])
    def refresh(self, request, cnpj):
        """Queue a registry refresh of the company: 202 with the task id."""
        company = self._company_or_404(cnpj)
        return self._queued(company_tasks.company_enrichment_enqueue(cnpj=company.cnpj))

    @extend_schema(
        request=None,
        responses={
            202: TaskQueuedSerializer,
            200: inline_serializer(
                "PipefyCardExists",
                {"pipefy_card_id": drf_serializers.CharField(), "status": drf_serializers.CharField()},
            ),
            409: OpenApiResponse(description="Pipefy is not configured on this server; nothing was queued."),
        },
        summary="Push to Pipefy",
    )
    @action(detail=True, methods=["post"])
    def pipefy(self, request, cnpj):
        """Queue the Pipefy push: 202 with the task id, or 200 with the card id if it has one;
        409 when Pipefy is not configured here (nothing is queued)."""
        company = self._company_or_404(cnpj)
        if company.pipefy_card_id:
            return Response({"pipefy_card_id": company.pipefy_card_id, "status": "exists"})
        if not enrichment.pipefy_configured():
            raise Conflict(enrichment.PIPEFY_NOT_CONFIGURED, code="pipefy_not_configured")
        return self._queued(company_tasks.company_pipefy_enqueue(cnpj=company.cnpj))


class RegistryLookupView(APIView):
    """`GET /api/registry/{cnpj}/`: what the Receita Federal registry says about a CNPJ (stores nothing)."""

    @extend_schema(
        summary="Look a CNPJ up in the Receita Federal registry",
        description="Asks the configured providers in order (cached). Nothing is stored.",
        responses={
            200: RegistryRecordSerializer,
            400: OpenApiResponse(description="Not a valid CNPJ."),
            404: OpenApiResponse(description="Every provider was asked and none knows this CNPJ."),
            503: OpenApiResponse(
                description="Some provider could not be asked (down or rate limited); see Retry-After."
            ),
        },
        tags=["registry"],
    )
    def get(self, request, cnpj: str):
        try:
            number = cnpj_value.normalize(cnpj)
        except cnpj_value.InvalidCNPJ as exc:
            raise exceptions.ValidationError({"cnpj": [exc.message]}, code=exc.code) from exc
        try:
            record, fetched_at = registry_record_get(cnpj=number)
        except NotFound as exc:
            raise exceptions.NotFound(f"No registry provider knows CNPJ {cnpj_value.format_cnpj(number)}.") from exc
        except IntegrationError as exc:
            raise ServiceUnavailable(
                "The registry providers are unavailable or rate limited; try again later.",
                retry_after=math.ceil(exc.retry_after or 30),
                service="registry",
            ) from exc
        return Response({**record.as_dict(include_raw=False), "fetched_at": fetched_at})


class EnrichmentStatusView(APIView):
    """`GET /api/enrichment/`: the enrichment and Pipefy backlogs, their pace and the providers."""

    @extend_schema(
        summary="The enrichment backlog: counts, pace, ETA and each provider's state",
        responses={200: EnrichmentStatusSerializer},
        tags=["registry"],
    )
    def get(self, request):
        return Response(EnrichmentStatusSerializer(enrichment.backlog_status()).data)
