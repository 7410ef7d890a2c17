"""Liveness and readiness endpoints for load balancers and orchestrators."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ops.health import run_checks


@never_cache
@require_safe
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def ready(request):
    results = run_checks()
    failed = [result for result in results if not result.ok]
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {result.name: result.as_dict() for result in results},
    }
    if failed:
        body["failed"] = [result.label for result in failed]
        body["message"] = "Unavailable: " + ", ".join(result.label for result in failed)
        response = JsonResponse(body, status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse(body)
