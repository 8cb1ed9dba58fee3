from . import test_messenger_channel
from . import test_sla_rules
from . import test_lead_sla
from . import test_assignment_rules
from . import test_assignment
from . import test_qualification_rules
from . import test_qualification
