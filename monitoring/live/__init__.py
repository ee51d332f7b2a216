"""Page reads that must ask AWS: the metrics panel (one GetMetricData per panel) and the
Model Monitor charts (drift metrics, reports in S3). Cached, and degrading to the last good
answer marked stale when AWS fails."""
