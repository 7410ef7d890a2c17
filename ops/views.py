"""Liveness and readiness endpoints for load balancers and orchestrators.

Readiness is about this process being able to serve: 503 ("down") only when the default
database fails; when only the cache, MongoDB or the broker fail it still serves (reads bypass the
cache, companies work without MongoDB, writes that queue work answer 503 themselves), so the
answer is 200 "degraded", and an orchestrator does not pull every replica when Redis blips. The
public answer names each service's state only; what failed and why goes to the log and to
`manage.py check_services`.
"""

import logging

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ops.health import run_checks

logger = logging.getLogger(__name__)
REQUIRED = "database"


@never_cache
@require_safe
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def ready(request):
    results = run_checks()
    for result in results:
        if not result.ok:
            logger.warning("readiness: %s is down: %s", result.label, result.detail)
    checks = {result.name: "ok" if result.ok else "down" for result in results}
    if checks[REQUIRED] == "down":
        status = "down"
    elif "down" in checks.values():
        status = "degraded"
    else:
        status = "ok"
    response = JsonResponse({"status": status, "checks": checks}, status=503 if status == "down" else 200)
    if status == "down":
        response["Retry-After"] = "5"
    return response
