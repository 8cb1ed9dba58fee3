import { DiscussApp } from "@mail/core/public_web/discuss_app_model";
import { Record } from "@mail/core/common/record";

import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/** The "Messengers" sidebar category: customers' messenger chats, apart from colleagues. */
patch(DiscussApp.prototype, {
    setup(env) {
        super.setup(env);
        this.messengerCategory = Record.one("DiscussAppCategory", {
            compute() {
                return {
                    extraClass: "o-mail-DiscussSidebarCategory-messenger",
                    icon: "fa fa-paper-plane",
                    hideWhenEmpty: true,
                    id: "messenger_leads.category",
                    name: _t("Messengers"),
                    sequence: 20,
                };
            },
        });
    },
});
