"""Instagram Direct through Meta's Messenger Platform: see meta_messaging.py."""

from .meta import GRAPH_API_URL
from .meta_messaging import VIDEO_AND_AUDIO, MetaMessagingProvider, capabilities


class InstagramProvider(MetaMessagingProvider):
    """Instagram Direct messages of a professional account linked to a Facebook Page."""

    code = "instagram"
    label = "Instagram"
    api_url = GRAPH_API_URL
    channel_xmlid = "messenger_leads.messenger_channel_instagram"
    webhook_object = "instagram"
    profile_fields = "name,username"
    # texts of up to 1,000 UTF-8 bytes; pictures (PNG, JPEG), videos and audio, no documents
    capabilities = capabilities(
        1000, ("image/jpeg", "image/png"), VIDEO_AND_AUDIO, max_text_bytes=1000
    )


PROVIDER = InstagramProvider()
