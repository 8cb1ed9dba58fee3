from . import messenger_channel
from . import crm_lead
from . import crm_team
from . import res_config_settings
