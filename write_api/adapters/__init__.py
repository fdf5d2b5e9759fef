"""Adapters: SQLAlchemy repositories, the outbox writer, password hashing and JWT."""
