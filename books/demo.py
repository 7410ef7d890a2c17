"""Demo catalogue for `make run`: a dozen well-known books. Safe to load again (adds only missing ones)."""

from books.models import Book
from books.published import PartialDate
from books.services import book_create

DEMO_BOOKS = [
    ("Dune", "", ["Frank Herbert"], "9780441172719", "Ace", "1990-09-01", "en", 535, ["sf", "classic"]),
    ("Neuromancer", "", ["William Gibson"], "9780441569595", "Ace", "1984-07", "en", 271, ["sf", "cyberpunk"]),
    ("Solaris", "", ["Stanisław Lem"], "9780156027601", "Harcourt", "2002", "en", 204, ["sf"]),
    ("The Hobbit", "or There and Back Again", ["J. R. R. Tolkien"], "9780261102217", "HarperCollins",
     "1996-06", "en", 304, ["fantasy"]),
    ("Emma", "", ["Jane Austen"], "9780141439587", "Penguin Classics", "2003-05-01", "en", 474, ["novel"]),
    ("Pride and Prejudice", "", ["Jane Austen"], "9780141439518", "Penguin Classics", "2002-12-31", "en", 480,
     ["novel", "classic"]),
    ("One Hundred Years of Solitude", "", ["Gabriel García Márquez"], "9780060883287", "Harper Perennial",
     "2006-02-21", "en", 417, ["novel"]),
    ("Structure and Interpretation of Computer Programs", "Second edition",
     ["Harold Abelson", "Gerald Jay Sussman", "Julie Sussman"], "9780262510875", "MIT Press", "1996-07",
     "en", 657, ["programming", "lisp"]),
    ("The C Programming Language", "Second edition", ["Brian W. Kernighan", "Dennis M. Ritchie"],
     "9780131103627", "Prentice Hall", "1988-03-22", "en", 272, ["programming", "c"]),
    ("Design Patterns", "Elements of Reusable Object-Oriented Software",
     ["Erich Gamma", "Richard Helm", "Ralph Johnson", "John Vlissides"], "9780201633610", "Addison-Wesley",
     "1994-10-31", "en", 395, ["programming"]),
    ("The Pragmatic Programmer", "From Journeyman to Master", ["Andrew Hunt", "David Thomas"],
     "9780201616224", "Addison-Wesley", "1999-10", "en", 352, ["programming"]),
    ("Refactoring", "Improving the Design of Existing Code", ["Martin Fowler"], "9780201485677",
     "Addison-Wesley", "1999", "en", 431, ["programming"]),
    ("Clean Code", "A Handbook of Agile Software Craftsmanship", ["Robert C. Martin"], "9780132350884",
     "Prentice Hall", "2008-08", "en", 464, ["programming"]),
]


def load_demo_data() -> int:
    """Add the demo books that are not there yet; returns how many were added."""
    existing = set(Book.objects.filter(isbn__in=[row[3] for row in DEMO_BOOKS]).values_list("isbn", flat=True))
    added = 0
    for title, subtitle, authors, isbn, publisher, published, language, pages, tags in DEMO_BOOKS:
        if isbn in existing:
            continue
        published_date = PartialDate.parse(published)
        book_create(
            title=title,
            subtitle=subtitle,
            authors=authors,
            isbn=isbn,
            publisher=publisher,
            published_date=published_date.start,
            published_date_precision=published_date.precision,
            language=language,
            page_count=pages,
            tags=tags,
        )
        added += 1
    return added
