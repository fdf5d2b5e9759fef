"""Request and response models (pydantic), one family per entity: In / Patch / Out."""
