from . import test_messenger_lead_report
from . import test_report_exports
from . import test_funnel_rules
from . import test_report_access
from . import test_response_report
from . import test_report_aggregate
