"""Alerts: findings of failed boots to chat (through Apprise URLs) and to Alertmanager.

- `notice.py`      the service-neutral message (a frozen Notice) and finding fingerprints
- `formatters/`    one pure `render(notice)` per service; console text made inert there
- `destinations.py` URL -> Destination (redacted label, hashed key; the URL stays in memory)
- `settings.py`    `[alerts]` and `[[alerts.routes]]` in config.toml, `--alert URL`
- `router.py`      grouping per (target, boot), dedupe, inhibition, repeat, resolve
- `outbox.py`      the persistent outbox and notification log (tables in the capture store)
- `delivery.py`    one sender thread per destination: retries, backoff, 429, rate limits
- `transport.py`   one HTTP post (or Apprise notify) and what its answer means
- `service.py`     `Alerting`, what tail and watch attach to their followers
"""
