"""OpenAPI descriptions of the security schemes: API key header, JWT bearer, and the admin session
(staff only, on the endpoints the back office's pages read)."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "access.authentication.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}


class JWTScheme(SimpleJWTScheme):
    target_class = "access.authentication.JWTAuthentication"
    name = "jwtAuth"


class StaffSessionScheme(SessionScheme):
    target_class = "access.authentication.StaffSessionAuthentication"
    name = "adminSession"

    def get_security_definition(self, auto_schema):
        return {
            **super().get_security_definition(auto_schema),
            "description": "The back office's session cookie, for staff (used by the admin's own pages).",
        }
