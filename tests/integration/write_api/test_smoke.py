from __future__ import annotations

from tests.integration.write_api.conftest import World


def test_a_populated_tenant_can_be_built_through_the_api(world: World) -> None:
    assert set(world.a.ids) >= {"product_id", "variant_id", "post_id", "entry_id", "order_id", "key_id"}
