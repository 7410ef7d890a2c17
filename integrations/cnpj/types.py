"""The shared typed record every provider returns, and the errors a lookup can raise."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from integrations.errors import BadResponse, IntegrationError, NotFound, RateLimited, Unavailable

__all__ = [
    "Activity",
    "Address",
    "BadResponse",
    "IntegrationError",
    "NotFound",
    "Partner",
    "RateLimited",
    "RegistrationStatus",
    "RegistryRecord",
    "Unavailable",
    "cnae_code",
]


CNAE_LENGTH = 7


def cnae_code(value: Any) -> str:
    """A CNAE activity code as stored: 7 digits. `62.01-5-01` / `6201-5/01` -> `6201501`; an
    integer that lost its leading zero (111301) -> `0111301`; blank or all zeros -> ''. Any other
    length is left as it is, for validation to refuse. The one normaliser, for the providers'
    answers and for what clients send."""
    if value is None or isinstance(value, bool):
        return ""
    # Only separators go; anything else (a letter) stays, for validation to refuse.
    digits = re.sub(r"[\s./-]", "", str(value))
    if not digits.strip("0"):
        return ""
    if len(digits) == CNAE_LENGTH - 1 and isinstance(value, int):
        digits = digits.zfill(CNAE_LENGTH)
    return digits


class RegistrationStatus(TextChoices):
    """Receita Federal's registration status (situação cadastral): the one list, also the
    company model's choices. The labels are the Receita's own words, the same in every language;
    only "Unknown" (no registry answer yet) is translated."""

    ATIVA = "ATIVA", "Ativa"
    SUSPENSA = "SUSPENSA", "Suspensa"
    INAPTA = "INAPTA", "Inapta"
    BAIXADA = "BAIXADA", "Baixada"
    NULA = "NULA", "Nula"
    UNKNOWN = "UNKNOWN", _("Unknown")


@dataclass(frozen=True)
class Activity:
    code: str  # CNAE, 7 digits
    description: str = ""


@dataclass(frozen=True)
class Partner:
    name: str
    role: str = ""
    since: date | None = None


@dataclass(frozen=True)
class Address:
    street: str = ""
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    state: str = ""  # UF, two letters
    zip_code: str = ""  # CEP, 8 digits
    ibge_code: str = ""


@dataclass(frozen=True)
class RegistryRecord:
    """One company as the registry knows it, whichever provider answered."""

    cnpj: str
    legal_name: str
    source: str
    trade_name: str = ""
    registration_status: RegistrationStatus = RegistrationStatus.UNKNOWN
    status_date: date | None = None
    opened_on: date | None = None
    legal_nature: str = ""
    size: str = ""
    share_capital: Decimal | None = None
    main_activity: Activity | None = None
    secondary_activities: tuple[Activity, ...] = ()
    partners: tuple[Partner, ...] = ()
    address: Address = field(default_factory=Address)
    email: str = ""
    phone: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def as_dict(self, *, include_raw: bool = True) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, money as a decimal string."""
        data = dataclasses.asdict(self)
        data["registration_status"] = str(self.registration_status)
        data["status_date"] = _iso(self.status_date)
        data["opened_on"] = _iso(self.opened_on)
        data["share_capital"] = None if self.share_capital is None else str(self.share_capital)
        for partner in data["partners"]:
            partner["since"] = _iso(partner["since"])
        if not include_raw:
            data.pop("raw")
        return data

    def company_fields(self) -> dict[str, Any]:
        """The record flattened to the company model's field names."""
        main = self.main_activity
        return {
            "legal_name": self.legal_name,
            "trade_name": self.trade_name,
            "registration_status": str(self.registration_status),
            "status_date": self.status_date,
            "opened_on": self.opened_on,
            "legal_nature": self.legal_nature,
            "size": self.size,
            "share_capital": self.share_capital,
            "main_activity_code": main.code if main else "",
            "main_activity_description": main.description if main else "",
            "secondary_activities": [dataclasses.asdict(a) for a in self.secondary_activities],
            "partners": [{"name": p.name, "role": p.role, "since": _iso(p.since)} for p in self.partners],
            "street": self.address.street,
            "street_number": self.address.number,
            "complement": self.address.complement,
            "district": self.address.district,
            "city": self.address.city,
            "state": self.address.state,
            "zip_code": self.address.zip_code,
            "city_ibge_code": self.address.ibge_code,
            "email": self.email,
            "phone": self.phone,
            "registry_source": self.source,
            "registry_payload": self.raw,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryRecord:
        """The inverse of `as_dict` (used to read a record back from the cache)."""
        main = data.get("main_activity")
        return cls(
            cnpj=data["cnpj"],
            legal_name=data["legal_name"],
            source=data["source"],
            trade_name=data.get("trade_name", ""),
            registration_status=RegistrationStatus(data.get("registration_status", "UNKNOWN")),
            status_date=_from_iso(data.get("status_date")),
            opened_on=_from_iso(data.get("opened_on")),
            legal_nature=data.get("legal_nature", ""),
            size=data.get("size", ""),
            share_capital=None if data.get("share_capital") is None else Decimal(data["share_capital"]),
            main_activity=Activity(**main) if main else None,
            secondary_activities=tuple(Activity(**a) for a in data.get("secondary_activities", ())),
            partners=tuple(
                Partner(name=p["name"], role=p.get("role", ""), since=_from_iso(p.get("since")))
                for p in data.get("partners", ())
            ),
            address=Address(**data.get("address", {})),
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            raw=data.get("raw", {}),
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
