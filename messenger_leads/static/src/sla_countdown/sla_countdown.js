import { Component, onMounted, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

const DAY = 24 * 3600;
const DEFAULT_STATE_FIELD = "messenger_sla_state";

/** Seconds left as "4:59", "1:05:00" or "-2:10" (late); past a day "2 d" or "2 d overdue". */
export function formatCountdown(seconds) {
    if (Math.abs(seconds) >= DAY) {
        const days = Math.floor(Math.abs(seconds) / DAY);
        return seconds < 0 ? _t("%(days)s d overdue", { days }) : _t("%(days)s d", { days });
    }
    const sign = seconds < 0 ? "-" : "";
    let rest = Math.abs(Math.trunc(seconds));
    const hours = Math.floor(rest / 3600);
    rest -= hours * 3600;
    const minutes = Math.floor(rest / 60);
    const secs = String(rest - minutes * 60).padStart(2, "0");
    return hours
        ? `${sign}${hours}:${String(minutes).padStart(2, "0")}:${secs}`
        : `${sign}${minutes}:${secs}`;
}

const STATE_CLASSES = {
    on_track: "text-bg-success",
    at_risk: "text-bg-warning",
    breached: "text-bg-danger",
    met: "text-bg-light",
    met_late: "text-bg-light",
};

// the deadline's states once a person answered
const ANSWERED = ["met", "met_late"];

/** A datetime field shown relative to now, refreshed every second. */
class TickingField extends Component {
    static props = { ...standardFieldProps };

    setup() {
        this.state = useState({ now: Date.now() });
        onMounted(() => {
            this.timer = setInterval(() => (this.state.now = Date.now()), 1000);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }
}

/** A badge on a response deadline that ticks every second, coloured by the record's SLA state
 * (the field named by the `state_field` option; a lead's `messenger_sla_state` by default). */
export class SlaCountdown extends TickingField {
    static template = "messenger_leads.SlaCountdown";
    static props = { ...standardFieldProps, stateField: String };

    get deadline() {
        const value = this.props.record.data[this.props.name]; // a luxon DateTime
        return value ? value.toMillis() : null;
    }

    get answered() {
        return ANSWERED.includes(this.props.record.data[this.props.stateField]);
    }

    get slaState() {
        const state = this.props.record.data[this.props.stateField];
        if (this.answered || !this.deadline) {
            return state;
        }
        // between two cron runs the client knows better: the deadline has passed
        return this.deadline < this.state.now ? "breached" : state;
    }

    get badgeClass() {
        return STATE_CLASSES[this.slaState] || "text-bg-light";
    }

    get label() {
        if (this.answered) {
            return this.slaState === "met_late" ? _t("Answered late") : _t("Answered");
        }
        return formatCountdown((this.deadline - this.state.now) / 1000);
    }
}

export const slaCountdown = {
    component: SlaCountdown,
    displayName: _t("First-response countdown"),
    supportedTypes: ["datetime"],
    extractProps: ({ options }) => ({ stateField: options.state_field || DEFAULT_STATE_FIELD }),
    fieldDependencies: ({ options }) => [
        { name: options.state_field || DEFAULT_STATE_FIELD, type: "selection" },
    ],
};

registry.category("fields").add("messenger_sla_countdown", slaCountdown);

/** How long ago a moment was (a customer waiting since then): "4:59", "1:05:00", "2 d". */
export class ElapsedTime extends TickingField {
    static template = "messenger_leads.ElapsedTime";

    get since() {
        const value = this.props.record.data[this.props.name];
        return value ? value.toMillis() : null;
    }

    get label() {
        return formatCountdown(Math.max(0, this.state.now - this.since) / 1000);
    }
}

registry.category("fields").add("messenger_elapsed_time", {
    component: ElapsedTime,
    displayName: _t("Time elapsed"),
    supportedTypes: ["datetime"],
});
