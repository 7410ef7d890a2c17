"""OpenAPI descriptions of the two security schemes: API key header and JWT bearer."""

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
