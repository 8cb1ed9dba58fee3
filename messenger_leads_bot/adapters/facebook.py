"""Facebook Messenger through Meta's Messenger Platform: see meta_messaging.py."""

from .meta import GRAPH_API_URL
from .meta_messaging import MetaMessagingProvider, capabilities


class FacebookProvider(MetaMessagingProvider):
    """Messenger conversations of a Facebook Page."""

    code = "facebook"
    label = "Facebook Messenger"
    api_url = GRAPH_API_URL
    channel_xmlid = "messenger_leads.messenger_channel_facebook"
    webhook_object = "page"
    profile_fields = "name"
    # texts of up to 2,000 characters; pictures (JPEG, PNG, GIF) and any other file
    capabilities = capabilities(2000, ("image/jpeg", "image/png", "image/gif"))


PROVIDER = FacebookProvider()
