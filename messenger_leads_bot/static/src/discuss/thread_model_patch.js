import { Thread } from "@mail/core/common/thread_model";
import { Record } from "@mail/core/common/record";

import { patch } from "@web/core/utils/patch";

patch(Thread.prototype, {
    setup() {
        super.setup(...arguments);
        /** Lead of a bridged messenger chat (sent by the server with the channel). */
        this.messenger_lead_id = Record.attr(false);
        /** While it is night for the customer: the hour their day begins ("10:00"). */
        this.messenger_civil_hour = Record.attr(false);
    },
    _computeDiscussAppCategory() {
        if (this.messenger_lead_id) {
            return this.store.discuss.messengerCategory;
        }
        return super._computeDiscussAppCategory();
    },
});
