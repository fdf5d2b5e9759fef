"""Faust's Kafka transport, with the worker consumer's fetch wait taken from the settings.

faust-streaming's aiokafka driver gives the worker's consumer ``fetch_max_wait_ms=1500``,
hard-coded. aiokafka keeps one fetch request in flight per broker, and leaves out of it
every partition whose records the application has not taken yet. While an agent holds
the event loop (the project stage runs the core on it), the partitions being written (a
table topic, a documents topic) still hold fetched records when aiokafka's prefetch
backoff (100 ms) lets the next request go. That request names only idle partitions, so
the broker holds it for the whole wait. For 1.5 s nothing is fetched, not even the new
records of the busy partitions.

This was measured in session 18, at 10k products and 200 writes/s. A request of 31 idle
topics out of 33 came back empty after 1.50 s, about once every 2 s. The project stage's
batches then started 1–1.8 s after Debezium had written their oldest record, and the
index stage's 2–6 s after. With a short wait, a stall is at most that wait long. An idle
worker sends about ten fetch requests a second, which each cost the broker almost
nothing.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as driver


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: driver.Transport) -> Any:  # aiokafka.AIOKafkaConsumer (aiokafka ships no types)
        assert isinstance(transport, Transport)
        consumer = super()._create_worker_consumer(transport)
        # AIOKafkaConsumer.start() builds its fetcher from this attribute; Faust offers no setting.
        consumer._fetch_max_wait_ms = transport.fetch_max_wait_ms
        return consumer


class _Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    """Parameters: as Faust's, and ``fetch_max_wait_ms``: how long the broker may hold a fetch
    request that finds no records."""

    Consumer = _Consumer

    def __init__(self, *args: Any, fetch_max_wait_ms: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetch_max_wait_ms = fetch_max_wait_ms
