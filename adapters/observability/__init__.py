"""Seeing the service run: Prometheus metrics, JSON logs with personal data masked, error tracking, alerts."""
