from django.apps import AppConfig
from django.db import connections
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = _("Directory")

    def ready(self):
        from directory.cache import install_roster_watch

        # Every write to a roster table, on every connection, makes the cached public pages obsolete.
        connection_created.connect(install_roster_watch, dispatch_uid="directory.cache.install_roster_watch")
        for connection in connections.all(initialized_only=True):
            install_roster_watch(connection)
