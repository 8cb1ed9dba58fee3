import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("messenger_leads_bot_discuss_tour", {
    url: "/odoo/action-mail.action_discuss",
    steps: () => [
        {
            content: "Customer chats have their own category",
            trigger: ".o-mail-DiscussSidebarCategory-messenger:contains(Messengers)",
        },
        {
            content: "Open the customer's chat",
            trigger: ".o-mail-DiscussSidebarChannel:contains(Tour Customer)",
            run: "click",
        },
        {
            content: "The customer's message is in the thread",
            trigger: ".o-mail-Message:contains(Do you have it in blue?)",
        },
        {
            content: "The bot's answer shows its delivery to the messenger",
            trigger: ".o-mail-Message .o-messenger-delivery[data-state]",
        },
        {
            content: "Open the lead from the thread",
            trigger: ".o-mail-Discuss-header button[title='Open the lead']",
            run: "click",
        },
        {
            content: "The lead's form is open",
            trigger: ".o_form_view .o_breadcrumb:contains(Telegram: Tour Customer)",
        },
    ],
});
