import { Composer } from "@mail/core/common/composer";

import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/** "Send at 10:00 their time": while it is night for the customer, a reply can wait for their
 * day (the server queues it for their next civil hour). */
patch(Composer.prototype, {
    get messengerCivilHour() {
        return !this.props.composer.message && this.thread?.messenger_civil_hour;
    },

    get messengerSendLaterTitle() {
        return _t("Send at %(time)s their time: it is night for the customer", {
            time: this.messengerCivilHour,
        });
    },

    async sendAtMessengerCivilHour() {
        await this.processMessage(async (value) => {
            const extraData = { ...this.extraData };
            extraData.context = { ...extraData.context, messenger_at_civil_hour: true };
            await this._sendMessage(value, this.postData, extraData);
        });
    },
});
