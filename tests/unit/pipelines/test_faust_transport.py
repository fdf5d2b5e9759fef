"""The Faust worker's consumer asks the broker to hold an empty fetch for ``fetch_max_wait``,
not Faust's hard-coded 1.5 s (see ``pipelines.faust_app.transport``)."""

from __future__ import annotations

import asyncio
from typing import cast

from faust.transport.drivers import aiokafka as driver

from pipelines.faust_app.settings import FaustSettings
from pipelines.faust_app.transport import Transport
from pipelines.faust_app.worker import FaustPipeline


def _worker_consumer_wait(settings: FaustSettings) -> int:
    async def build() -> int:
        app = FaustPipeline(settings).app
        assert isinstance(app.transport, Transport)
        thread = cast(driver.Consumer, app.consumer)._thread  # made by the consumer, not started
        consumer = thread._create_worker_consumer(app.transport)
        try:
            # Read by AIOKafkaConsumer.start() when it builds the fetcher that sends every fetch request.
            return int(consumer._fetch_max_wait_ms)
        finally:
            await consumer.stop()
            thread.thread_loop.close()
    return asyncio.run(build())


def test_the_worker_consumer_waits_100_ms_for_records_by_default() -> None:
    assert _worker_consumer_wait(FaustSettings(app_id="fetch-wait-default")) == 100


def test_the_fetch_wait_follows_the_setting() -> None:
    assert _worker_consumer_wait(FaustSettings(app_id="fetch-wait-set", fetch_max_wait=0.02)) == 20
