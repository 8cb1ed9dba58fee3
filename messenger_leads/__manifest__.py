{
    "name": "Messenger Leads",
    "summary": "Every messenger conversation a CRM lead: channel, qualification score, "
    "first-response deadline and escalation",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/messenger-leads/messenger-leads",
    "author": "Messenger Leads",
    "license": "LGPL-3",
    "depends": ["crm", "utm", "resource", "phone_validation", "mail"],
    "data": [
        "security/ir.model.access.csv",
        "security/messenger_channel_security.xml",
        "data/utm_data.xml",
        "data/messenger_channel_data.xml",
        "data/ir_cron_data.xml",
        "views/messenger_channel_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_team_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "demo": [
        "demo/resource_calendar_demo.xml",
        "demo/res_users_demo.xml",
        "demo/crm_team_demo.xml",
        "demo/crm_lead_demo.xml",
    ],
    "assets": {
        "web.assets_backend": ["messenger_leads/static/src/**/*"],
        "web.assets_tests": ["messenger_leads/static/tests/tours/*"],
    },
    "installable": True,
    "application": False,
}
