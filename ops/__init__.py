"""Settings, structured logs and Prometheus metrics: a leaf every package may import."""
