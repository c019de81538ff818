from channels.marketing.models.campaigns import *  # noqa: F403
