"""Notices that arrive: mail to staff and webhooks to integrators, through an outbox.

- ``outbox``: what the rest of the service calls, explicitly, where a change happens (an item
  created, moved, assigned or commented on; an observation stored; a walk completed). It adds
  rows to the caller's session, so they commit or roll back with the change itself.
- ``payloads``: what a webhook body says about an item, observation or walk (never who
  reported it).
- ``preferences``: per kind ``off | immediate | digest``, and the mail's language.
- ``webhooks``: the endpoints (admin), their signing secrets and delivery log.
- ``mail``: composing the mails and talking SMTP.
- ``router``: ``/me/notifications`` and ``/webhooks``.

The sender that empties the outbox is a job: ``api/jobs/notify.py``.
"""
