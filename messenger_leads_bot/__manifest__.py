{
    "name": "Messenger Leads: messengers and website chat",
    "summary": "Telegram, WhatsApp, Viber, MAX and website chats as CRM leads and Discuss "
    "threads, both ways, with a polite bot",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/messenger-leads/messenger-leads",
    "author": "Messenger Leads",
    "license": "LGPL-3",
    "depends": ["messenger_leads", "im_livechat", "crm_livechat", "link_tracker"],
    "external_dependencies": {
        "python": ["python-telegram-bot", "httpx", "phonenumbers", "requests"]
    },
    "data": [
        "security/ir.model.access.csv",
        "security/messenger_bot_security.xml",
        "data/ir_cron_data.xml",
        "data/crm_lost_reason_data.xml",
        "views/messenger_bot_account_views.xml",
        "views/messenger_bot_account_health_views.xml",
        "views/messenger_conversation_wizard_views.xml",
        "views/messenger_conversation_views.xml",
        "views/im_livechat_channel_views.xml",
        "views/messenger_send_wizard_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_team_views.xml",
        "views/chatbot_script_step_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "demo": [
        "demo/messenger_bot_account_demo.xml",
        "demo/messenger_conversation_demo.xml",
        "demo/mail_canned_response_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "messenger_leads_bot/static/src/discuss/*",
            "messenger_leads_bot/static/src/lead_chat/*",
        ],
        "web.assets_tests": ["messenger_leads_bot/static/tests/tours/*"],
    },
    "installable": True,
    "application": False,
}
