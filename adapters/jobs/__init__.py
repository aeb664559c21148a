"""Background jobs on arq: inspection reminders, daily digests, property alerts, retried deliveries.

The web process enqueues (`scheduler.JobScheduler`, the `jobs.*` actions in `actions`, the
WhatsApp retry hook and the email deliver step in `delivery`); `python main.py worker` runs the
jobs (`worker`); without REDIS_URL, `inprocess.start_inprocess_jobs` runs them inside the web
process. See docs/jobs.md. Nothing is imported here, so adapters.runtime may import
`adapters.jobs.actions` without an import cycle (`wiring` imports adapters.runtime).
"""
