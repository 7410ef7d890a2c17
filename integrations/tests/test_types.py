import json
from decimal import Decimal

from integrations.cnpj import brasilapi
from integrations.cnpj.types import RegistrationStatus, RegistryRecord
from integrations.tests import payloads


def test_record_round_trips_through_json():
    record = brasilapi.parse(payloads.brasilapi(), cnpj=payloads.CNPJ)
    data = json.loads(json.dumps(record.as_dict()))
    assert data["share_capital"] == "150000.50"
    assert data["opened_on"] == "1998-04-15"
    assert data["partners"][0]["since"] == "1998-04-15"
    assert data["registration_status"] == "ATIVA"
    again = RegistryRecord.from_dict(data)
    assert again == record
    assert again.share_capital == Decimal("150000.50")
    assert again.registration_status is RegistrationStatus.ATIVA
    assert again.raw == record.raw


def test_as_dict_can_leave_out_the_raw_payload():
    record = brasilapi.parse(payloads.brasilapi(), cnpj=payloads.CNPJ)
    assert "raw" not in record.as_dict(include_raw=False)
