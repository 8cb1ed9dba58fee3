from . import messenger_lead_report
from . import messenger_lead_report_aggregate
from . import messenger_report_dashboard
from . import messenger_response_report
