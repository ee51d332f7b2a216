"""The bottom layer of the portal: shared plumbing that every app builds on and that
depends on no app of ours (import-linter checks it in `make lint`)."""
