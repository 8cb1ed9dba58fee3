import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("messenger_leads_reports_dashboard_tour", {
    url: "/odoo/action-messenger_leads_reports.messenger_report_dashboard_action",
    steps: () => [
        {
            content: "The funnel shows the Telegram leads of this month",
            trigger: ".o_messenger_funnel tbody tr:contains(Telegram)",
        },
        {
            content: "The largest drop is highlighted",
            trigger: ".o_messenger_funnel .o_messenger_drop",
        },
        {
            content: "Switch to the last three months",
            trigger: ".o_messenger_periods button[data-period=last_3_months]",
            run: "click",
        },
        {
            content: "The period is selected and the figures reloaded",
            trigger: ".o_messenger_periods button.btn-primary[data-period=last_3_months]",
        },
        {
            content: "The first response median is shown",
            trigger: ".o_messenger_response .o_messenger_median:contains(min)",
        },
        {
            content: "Open the funnel details",
            trigger: ".o_messenger_funnel a:contains(Details)",
            run: "click",
        },
        {
            content: "The funnel pivot opens with the conversion measure",
            trigger: ".o_pivot_view .o_pivot:contains(Conversion (%))",
        },
    ],
});
