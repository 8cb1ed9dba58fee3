from . import messenger_relay
