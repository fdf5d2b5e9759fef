"""The Kafka runtime of the pipelines: a Faust app calling the same core and sinks as the embedded runner.

Modules: ``settings`` (``RUSTOK_FAUST_*``), ``state`` (the StateStore port over Faust
tables), ``project`` (stage 1, Kafka-free), ``index`` (stage 2, Kafka-free),
``messages`` (documents and DLQ values), ``checkpoint`` (the applied position for
read-your-writes), ``worker`` (the Faust app, agents and tasks).

Errors: the package raises :class:`~pipelines.errors.PipelineError` subclasses only::

    PipelineError
    ├── StateStoreError        the Faust tables could not be loaded
    └── InvalidDocsMessage     a documents-topic value is not an emission (→ DLQ)
"""
