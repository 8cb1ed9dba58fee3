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
        {
            content: "Back to the inbox",
            trigger: ".o_breadcrumb a:contains(Incoming chats)",
            run: "click",
        },
        {
            content: "Open another waiting chat",
            trigger: ".o_data_row:contains(Calm Customer) td[name=last_customer_text]",
            run: "click",
        },
        {
            content: "Transfer it",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Transfer)",
            run: "click",
        },
        {
            content: "To a colleague",
            trigger: ".modal div[name=user_id] input",
            run: "edit inbox_colleague",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(inbox_colleague)",
            run: "click",
        },
        {
            content: "With a note",
            trigger: ".modal div[name=note] textarea",
            run: "edit She asks about delivery to Kazan",
        },
        {
            trigger: ".modal button[name=action_transfer]",
            run: "click",
        },
        {
            content: "The chat is the colleague's",
            trigger: ".o_form_view:not(:has(.modal)) div[name=user_id]:contains(inbox_colleague)",
        },
        {
            content: "Back to the inbox",
            trigger: ".o_breadcrumb a:contains(Incoming chats)",
            run: "click",
        },
        {
            content: "Open a third chat",
            trigger: ".o_data_row:contains(Done Customer) td[name=last_customer_text]",
            run: "click",
        },
        {
            content: "Close it",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Close)",
            run: "click",
        },
        {
            content: "With a last message",
            trigger: ".modal div[name=closing_message] textarea",
            run: "edit Thank you, write again any time!",
        },
        {
            trigger: ".modal button[name=action_close]",
            run: "click",
        },
        {
            content: "The chat is closed",
            trigger: ".o_statusbar_status button[data-value=closed].o_arrow_button_current",
        },
    ],
});
