"""Factories for books: valid ISBN-13s, real-looking titles and authors."""

import factory
from stdnum import ean

from books.models import Book


def make_isbn13(serial: int, prefix: str = "978") -> str:
    """A valid ISBN-13 with `serial` in the publisher/title digits."""
    body = f"{prefix}{serial % 10**9:09d}"
    return body + ean.calc_check_digit(body)


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Book

    title = factory.Faker("sentence", nb_words=4)
    authors = factory.List([factory.Faker("name")])
    isbn = factory.Sequence(lambda n: make_isbn13(100_000 + n))
    publisher = "Test House"
    language = "en"
    tags = factory.LazyFunction(list)
