import pytest

from companies.demo import DEMO_COMPANIES, load_demo_data
from companies.models import Company

pytestmark = pytest.mark.django_db


def test_demo_data_loads_once():
    assert load_demo_data() == len(DEMO_COMPANIES) == Company.objects.count()
    assert load_demo_data() == 0
    assert Company.objects.count() == len(DEMO_COMPANIES)
    assert Company.objects.filter(cnpj__regex=r"[A-Z]").exists()
    assert Company.objects.filter(enrichment_status="ok").exclude(registry_payload=None).count() == 2
