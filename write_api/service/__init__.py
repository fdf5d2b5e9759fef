"""Service layer: commands, handlers ``(command, uow)`` and the tenant-scoped unit of work."""
