"""Per-request actor: set from the session user (admin); API authentication refines it."""

from access.actor import reset_actor, set_actor, user_label


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        label = user_label(user) if user is not None and user.is_authenticated else None
        token = set_actor(label)
        try:
            return self.get_response(request)
        finally:
            reset_actor(token)
