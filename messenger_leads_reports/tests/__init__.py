from . import test_messenger_lead_report
