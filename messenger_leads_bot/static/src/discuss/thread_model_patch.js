import { Thread } from "@mail/core/common/thread_model";
import { Record } from "@mail/core/common/record";

import { patch } from "@web/core/utils/patch";

patch(Thread.prototype, {
    setup() {
        super.setup(...arguments);
        /** Lead of a bridged messenger chat (sent by the server with the channel). */
        this.messenger_lead_id = Record.attr(false);
    },
    _computeDiscussAppCategory() {
        if (this.messenger_lead_id) {
            return this.store.discuss.messengerCategory;
        }
        return super._computeDiscussAppCategory();
    },
});
