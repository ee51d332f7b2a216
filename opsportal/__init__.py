"""Ops Portal: operations console for Amazon SageMaker real-time inference."""

from opsportal.celery import app as celery_app

__all__ = ["celery_app"]
