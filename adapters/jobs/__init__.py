"""Background jobs on arq: inspection reminders, daily digests, property alerts, retried deliveries.

The web process enqueues (`scheduler.JobScheduler`, the `jobs.*` actions in `actions`, the
WhatsApp retry hook and the email deliver step in `delivery`); the composition root (`app.worker`,
`app.inprocess`) builds the JobContext from explicit parts and runs arq with `worker.worker_options`.
This package never imports `app`. See docs/jobs.md.
"""
