import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("messenger_leads_bot_inbox_tour", {
    url: "/odoo/action-messenger_leads_bot.messenger_conversation_action_incoming",
    steps: () => [
        {
            content: "The most urgent chat comes first, with what the customer wrote",
            trigger: ".o_data_row:first-child:contains(Urgent Customer):contains(I need it today)",
        },
        {
            content: "Its first-response countdown ticks",
            trigger: ".o_data_row:first-child .o_messenger_sla_countdown",
        },
        {
            content: "And how long the customer has waited",
            trigger: ".o_data_row:first-child .o_messenger_elapsed_time",
        },
        {
            content: "Open the chat in Discuss",
            trigger: ".o_data_row:first-child button.o_messenger_open_discuss",
            run: "click",
        },
        {
            content: "The customer's message is in the thread",
            trigger: ".o-mail-Message:contains(I need it today)",
        },
        {
            content: "Type a canned response's shortcut",
            trigger: ".o-mail-Composer-input",
            run: "edit :hello",
        },
        {
            content: "Pick the canned response",
            trigger: ".o-mail-Composer-suggestion:contains(hello)",
            run: "click",
        },
        {
            content: "Send it",
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The answer is in the thread",
            trigger: ".o-mail-Message:contains(Thank you for writing to us)",
        },
    ],
});
