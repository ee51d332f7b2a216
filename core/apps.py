from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The portal's bottom layer: the AWS gateway, targets, roles, queueing, sync health,
    paging, forms and template tags every app shares. It imports no app of ours."""

    name = "core"
    verbose_name = "Ops Portal core"

    def ready(self) -> None:
        from core import task_metrics  # noqa: F401  (connects the task-outcome counters)
        from core.metrics import metrics_dir_clean

        # Every process starts here (web, worker, beat, commands): the files of this host's
        # processes that are gone go (core.metrics says why).
        metrics_dir_clean()
