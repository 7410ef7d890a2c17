"""The actor of a history row, in the words the back office shows."""

import pytest
from django.contrib.auth import get_user_model

from access.actor import actor_in_words


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ("user:maria", "maria"),
        ("api_key:crm-sync", "API key crm-sync"),
        ("task:companies.enrich", "task companies.enrich"),
        ("command:import_companies", "command import_companies"),
        ("provider:brasilapi", "registry provider brasilapi"),
        ("system", "the system"),
        ("", "the system"),
        ("robot:r2", "robot:r2"),  # an unknown kind is shown as recorded
    ],
)
def test_actor_in_words(label, words):
    assert actor_in_words(label) == words


def test_a_person_with_a_full_name():
    User = get_user_model()
    user = User(username="maria", first_name="Maria", last_name="Lima")
    assert actor_in_words("user:maria", user=user) == "Maria Lima (maria)"
    assert actor_in_words("user:joao", user=User(username="joao")) == "joao"
