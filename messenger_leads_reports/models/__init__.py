from . import messenger_conversion_target
from . import crm_team
