import { registry } from "@web/core/registry";

// what the salesperson answers, in paragraphs (the Python test checks it leaves whole)
const REPLY = [
    "Good afternoon! Yes, we have the blue one in size M, and in L from Friday.",
    "Delivery to Kazan takes two days; we send it the day you order.",
    "Shall I reserve one for you until tomorrow evening?",
].join("\n\n");

registry.category("web_tour.tours").add("messenger_leads_bot_lead_chat_tour", {
    steps: () => [
        {
            content: "The lead has a Chat page",
            trigger: ".o_form_view .o_notebook a[name=messenger_chat]",
            run: "click",
        },
        {
            content: "The customer's long message is there, to its last paragraph",
            trigger: ".o_messenger_lead_chat .o-mail-Message:contains(I would pay by card on delivery)",
        },
        {
            content: "Answer in the composer under it",
            trigger: ".o_messenger_lead_chat .o-mail-Composer-input",
            // a function: a run string is one line
            run: (actions) => actions.edit(REPLY),
        },
        {
            content: "Send it",
            trigger: ".o_messenger_lead_chat .o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The answer is in the chat, on the lead",
            trigger: ".o_messenger_lead_chat .o-mail-Message:contains(reserve one for you)",
        },
    ],
});

registry.category("web_tour.tours").add("messenger_leads_bot_lead_chat_private_tour", {
    steps: () => [
        {
            content: "The lead has a Chat page",
            trigger: ".o_form_view .o_notebook a[name=messenger_chat]",
            run: "click",
        },
        {
            content: "Whoever is not in the chat is told it is private, and sees none of it",
            trigger: ".o_notebook:not(:has(.o_messenger_lead_chat)) .o_messenger_lead_chat_private",
        },
    ],
});

registry.category("web_tour.tours").add("messenger_leads_bot_send_later_tour", {
    steps: () => [
        {
            content: "The lead has a Chat page",
            trigger: ".o_form_view .o_notebook a[name=messenger_chat]",
            run: "click",
        },
        {
            content: "Write an answer while it is night for the customer",
            trigger: ".o_messenger_lead_chat .o-mail-Composer-input",
            run: "edit I will call you in the morning",
        },
        {
            content: "Send it when their day begins",
            trigger: ".o_messenger_lead_chat button.o-messenger-send-later:enabled",
            run: "click",
        },
        {
            content: "It is in the chat, waiting to be sent",
            trigger:
                ".o_messenger_lead_chat .o-mail-Message:contains(call you in the morning) .o-messenger-delivery[data-state=queued]",
        },
    ],
});
