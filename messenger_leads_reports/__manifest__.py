{
    "name": "Messenger Leads: reports",
    "summary": "Conversion by channel, response times and manager KPIs for messenger leads",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/messenger-leads/messenger-leads",
    "author": "Messenger Leads",
    "license": "LGPL-3",
    "depends": ["messenger_leads"],
    "data": [
        "security/ir.model.access.csv",
        "views/messenger_lead_report_views.xml",
    ],
    "installable": True,
    "application": False,
}
