"""The Ops Portal's command-line client.

It speaks only the portal's REST API (``/api/v1/``) over HTTP, with a user's API token, so it
runs wherever the portal is reachable: a laptop, a CI job gating a rollout on a traffic shift.
It imports nothing of the portal.
"""
