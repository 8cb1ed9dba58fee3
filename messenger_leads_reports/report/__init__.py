from . import messenger_lead_report
