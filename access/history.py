"""History plumbing shared by every tracked model: the actor column and the user getter.

Use `HistoricalRecords(bases=[ActorHistoryFields], get_user=get_history_user)` on a model; each
history row then says who acted: `user:<name>`, `api_key:<name>`, `task:<name>`,
`command:<name>` or `provider:<name>`.
"""

from django.contrib.auth import get_user_model
from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.signals import pre_create_historical_record

from access.actor import current_actor, user_label


class ActorHistoryFields(models.Model):
    history_actor = models.CharField(_("actor"), max_length=150, blank=True, default="")

    class Meta:
        abstract = True


def get_history_user(instance=None, request=None, **kwargs):
    """Only real users go in `history_user`; API keys and tasks are named in `history_actor`."""
    user = getattr(request, "user", None)
    if isinstance(user, get_user_model()) and user.is_authenticated:
        return user
    return None


@receiver(pre_create_historical_record)
def stamp_actor(sender, instance, history_instance, history_user=None, **kwargs):
    if not hasattr(history_instance, "history_actor") or history_instance.history_actor:
        return
    actor = current_actor()
    if not actor and history_user is not None:
        actor = user_label(history_user)
    history_instance.history_actor = actor or "system"
