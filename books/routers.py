"""Database router: the books app, and only it, lives in MongoDB (alias `mongo`)."""

MONGO_ALIAS = "mongo"
MONGO_APPS = frozenset({"books"})


class BooksRouter:
    def db_for_read(self, model, **hints):
        return MONGO_ALIAS if model._meta.app_label in MONGO_APPS else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        databases = {obj1._state.db, obj2._state.db}
        if MONGO_ALIAS in databases:
            return len(databases) == 1
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in MONGO_APPS:
            return db == MONGO_ALIAS
        return db != MONGO_ALIAS
