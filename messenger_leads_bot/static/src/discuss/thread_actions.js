import { threadActionsRegistry } from "@mail/core/common/thread_actions";

import { _t } from "@web/core/l10n/translation";

threadActionsRegistry.add("messenger-open-lead", {
    condition(component) {
        return Boolean(component.thread?.messenger_lead_id);
    },
    icon: "fa fa-fw fa-handshake-o",
    name: _t("Open the lead"),
    open(component) {
        component.env.services.action.doAction({
            type: "ir.actions.act_window",
            res_model: "crm.lead",
            res_id: component.thread.messenger_lead_id,
            views: [[false, "form"]],
        });
    },
    sequence: 5,
    sequenceQuick: 5,
});
