"""django-simple-history on MongoDB: history rows with ObjectId keys, stamped with the actor."""

from django.db import models
from django_mongodb_backend.fields import ObjectIdAutoField, ObjectIdField
from simple_history.models import HistoricalRecords

from access.history import ActorHistoryFields, get_history_user


class MongoHistoricalRecords(HistoricalRecords):
    """HistoricalRecords for a model stored in MongoDB.

    The stock class gives the history row an integer AutoField (refused by the backend), copies
    the ObjectId primary key as an IntegerField, and links `history_user` with a foreign key
    into the SQL database, which the router refuses. Here the row has its own ObjectId, keeps
    the book's ObjectId in an indexed plain field, and records the user's id as a number.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("history_id_field", ObjectIdAutoField())
        kwargs.setdefault("history_user_id_field", models.IntegerField(null=True, blank=True))
        kwargs.setdefault("bases", [ActorHistoryFields])
        kwargs.setdefault("get_user", get_history_user)
        super().__init__(**kwargs)

    @property
    def _date_indexing(self):
        # History rows are read by book id (indexed) and ordered in memory; an index on
        # `history_date` would only cost every write.
        return False

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        pk_name = model._meta.pk.name
        copied_pk = ObjectIdField(db_index=True, blank=True)
        copied_pk.name = pk_name
        fields[pk_name] = copied_pk
        return fields
