import { Composer } from "@mail/core/common/composer";
import { Thread } from "@mail/core/common/thread";
import {
    useMessageEdition,
    useMessageHighlight,
    useMessageToReplyTo,
} from "@mail/utils/common/hooks";

import { Component, onWillStart, onWillUpdateProps, useState, useSubEnv } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * The lead's messenger chat inside its form: Discuss's own thread and composer of the chat's
 * channel, so a salesperson reads and answers without leaving the lead. The field is the
 * channel, set by the server only for those who may read it (the lead's salesperson and team
 * leader); anyone else sees a line saying so.
 */
export class MessengerLeadChat extends Component {
    static components = { Composer, Thread };
    static props = { ...standardFieldProps };
    static template = "messenger_leads_bot.MessengerLeadChat";

    setup() {
        super.setup();
        this.store = useState(useService("mail.store"));
        this.messageEdition = useMessageEdition();
        this.messageToReplyTo = useMessageToReplyTo();
        useSubEnv({ messageHighlight: useMessageHighlight() });
        this.state = useState({ thread: null, jumpPresent: 0 });
        onWillStart(() => this.load(this.props));
        onWillUpdateProps((nextProps) => this.load(nextProps));
    }

    async load(props) {
        const value = props.record.data[props.name];
        if (!value) {
            this.state.thread = null;
        } else if (this.state.thread?.id !== value[0]) {
            // undefined when the channel is gone or no longer readable
            this.state.thread = await this.store.Thread.getOrFetch({
                model: "discuss.channel",
                id: value[0],
            });
        }
    }
}

registry.category("fields").add("messenger_lead_chat", {
    component: MessengerLeadChat,
    supportedTypes: ["many2one"],
});
