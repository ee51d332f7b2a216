from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The portal's bottom layer: the AWS gateway, targets, roles, queueing, sync health,
    paging, forms and template tags every app shares. It imports no app of ours."""

    name = "core"
    verbose_name = "Ops Portal core"
