"""Plumbing every app's `api.py` shares: problem+json errors (RFC 9457), the role check,
cursor pages, per-token rate limits and idempotent POSTs."""
