from . import messenger_callback_later_wizard
