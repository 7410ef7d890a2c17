from django.apps import AppConfig


class BooksConfig(AppConfig):
    name = "books"
    verbose_name = "Books"
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
