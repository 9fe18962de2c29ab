"""Work that runs outside a request: the daily purge, the Open311 sync, backups, the demo."""
