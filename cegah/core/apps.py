from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cegah.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Importing every app's tasks module registers its tasks and periodic jobs, so that the
        # scheduler in `cegah worker` knows all of them without a central list to keep in sync.
        autodiscover_modules("tasks")
