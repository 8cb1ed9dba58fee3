import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";

const PERIODS = [
    ["this_month", _t("This month")],
    ["last_month", _t("Last month")],
    ["last_3_months", _t("Last 3 months")],
    ["this_year", _t("This year")],
];

/** Messenger leads at a glance: funnel by channel, response, salespeople, quality, targets. */
export class MessengerDashboard extends Component {
    static template = "messenger_leads_reports.Dashboard";
    static components = { Layout };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.periods = PERIODS;
        this.state = useState({ period: "this_month", data: null });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.data = await this.orm.call("messenger.report.dashboard", "get_dashboard_data", [], {
            period: this.state.period,
        });
    }

    async selectPeriod(period) {
        this.state.period = period;
        await this.load();
    }

    open(xmlid) {
        return this.action.doAction(xmlid);
    }

    /** A figure or a dash when there is nothing to measure. */
    fmt(value, suffix = "") {
        return value === null || value === undefined || value === false ? "–" : `${value}${suffix}`;
    }

    get maxHourly() {
        return Math.max(1, ...this.state.data.breaches_by_hour);
    }
}

registry.category("actions").add("messenger_leads_reports.dashboard", MessengerDashboard);
