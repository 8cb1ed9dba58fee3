from . import messenger_send_wizard
from . import messenger_conversation_close
from . import messenger_conversation_transfer
