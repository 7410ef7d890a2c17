"""Health and metrics answers for probes and scrapers, whatever the Host header they send."""

from ops import metrics, views

HEALTH_VIEWS = {"/health/live": views.live, "/health/ready": views.ready, "/metrics": metrics.metrics}


class HealthCheckMiddleware:
    """Probes and Prometheus ask by address (`127.0.0.1`, a pod IP), not by the API's host name,
    so health and metrics are answered here (metrics keep their own access rule), before the host
    is validated (ALLOWED_HOSTS) or HTTPS is required; every other path still goes through both."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = HEALTH_VIEWS.get(request.path_info)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)
