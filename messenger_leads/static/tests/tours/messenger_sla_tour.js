import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("messenger_leads_sla_tour", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "The pipeline shows a ticking countdown on a waiting lead",
            trigger: ".o_kanban_record:contains(SLA tour lead) .o_messenger_sla_countdown[data-sla-state=on_track]",
        },
        {
            content: "A lead breached days ago shows its badge in red, in days",
            trigger: ".o_kanban_record:contains(SLA tour breached) .o_messenger_sla_countdown.text-bg-danger:contains(d overdue)",
        },
        {
            content: "Open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Use the filter Needs an answer now",
            trigger: ".o_filter_menu .o_menu_item:contains(Needs an answer now)",
            run: "click",
        },
        {
            content: "The breached lead stays",
            trigger: ".o_kanban_record:contains(SLA tour breached)",
        },
        {
            content: "The lead on track is filtered out",
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains(SLA tour lead)))",
        },
    ],
});
