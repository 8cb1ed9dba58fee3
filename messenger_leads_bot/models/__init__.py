from . import messenger_bot_account
from . import messenger_conversation
from . import crm_lead
