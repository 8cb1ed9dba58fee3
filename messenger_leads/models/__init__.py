from . import messenger_channel
from . import crm_lead
from . import crm_team
from . import crm_team_member
from . import messenger_assignment_log
from . import res_config_settings
from . import res_users
