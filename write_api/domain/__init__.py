"""Pure rules of the write model: no SQLAlchemy, FastAPI or I/O."""
