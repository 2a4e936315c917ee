"""Mail: every email is first a row in the outbox, delivered over SMTP by a worker."""
