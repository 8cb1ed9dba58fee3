from . import messenger_channel
from . import crm_lead
from . import crm_team
