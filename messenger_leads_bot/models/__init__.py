from . import messenger_bot_account
from . import messenger_conversation
from . import messenger_update
from . import messenger_outbox
from . import mail_message
from . import discuss_channel
from . import crm_lead
