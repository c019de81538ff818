"""The marketing app's tables. Each concern has its own module; this package re-exports them."""

from channels.marketing.models.campaigns import *  # noqa: F403  (the campaign tables)
from channels.marketing.models.rollups import (
    CategorySalesDay,
    ChannelDay,
    ChannelMixMonth,
    CustomerMonth,
    FunnelDay,
    RollupWatermark,
    ServiceDay,
)

__all__ = [
    "CategorySalesDay",
    "ChannelDay",
    "ChannelMixMonth",
    "CustomerMonth",
    "FunnelDay",
    "RollupWatermark",
    "ServiceDay",
]
