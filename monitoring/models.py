"""Monitoring: metric charts, alarms and Model Monitor results (tables arrive with those pages)."""
