from . import test_messenger_channel
