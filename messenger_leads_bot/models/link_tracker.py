import re

from odoo import api, fields, models

from ..tools.links import carries_credentials, is_guessable, unguessable_code

# a link ends before spaces, quotes and the punctuation that closes a sentence
URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")


class LinkTracker(models.Model):
    _inherit = "link.tracker"

    messenger_lead_id = fields.Many2one(
        "crm.lead",
        string="Messenger lead",
        index="btree_not_null",
        ondelete="cascade",
        help="The lead whose customer got this link in a messenger: a click counts for it.",
    )

    @api.model
    def _messenger_track_links(self, text, lead):
        """`text` with each link replaced by a short link that counts clicks for `lead`; links
        that carry a secret (a portal link's access token, a password) go out as they are."""
        short_host = self.get_base_url() + "/r/"
        trackers = {}

        def shorten(match):
            url = match.group(0)
            if url.startswith(short_host) or carries_credentials(url):
                return url
            if url not in trackers:
                trackers[url] = self._messenger_tracker(url, lead).short_url
            return trackers[url]

        return URL.sub(shorten, text)

    def _messenger_tracker(self, url, lead):
        # The label makes the tracker unique per lead among Odoo's (url, utm, label) trackers;
        # the title is given so Odoo does not fetch the page while the customer waits.
        values = {
            "url": url,
            "title": url,
            "campaign_id": lead.campaign_id.id,
            "medium_id": lead.medium_id.id,
            "source_id": lead.source_id.id,
            "label": f"Lead #{lead.id}",
            "messenger_lead_id": lead.id,
        }
        tracker = self.sudo().search_or_create([values])
        if is_guessable(tracker.code):  # Odoo's own code, or one from before ours were long
            tracker.code = unguessable_code()
        return tracker
