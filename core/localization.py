"""Which language and time zone a request is answered in. The API (and health) answers in English
with UTC timestamps whatever the client's Accept-Language: its messages and times are a contract.
Everything else, the back office, is in the language LocaleMiddleware chose (the language switch,
Accept-Language, else Portuguese) and shows times in BACK_OFFICE_TIME_ZONE; storage is UTC."""

from django.conf import settings
from django.utils import timezone, translation

from core.exceptions import is_api

API_LANGUAGE = "en"


class LocaleByAreaMiddleware:
    """After django.middleware.locale.LocaleMiddleware, which activated the visitor's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api(request):
            translation.activate(API_LANGUAGE)
            request.LANGUAGE_CODE = API_LANGUAGE
            return self.get_response(request)
        with timezone.override(settings.BACK_OFFICE_TIME_ZONE):
            return self.get_response(request)
