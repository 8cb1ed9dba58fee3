from . import messenger_send_wizard
