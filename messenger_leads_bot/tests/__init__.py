from . import test_messenger_conversation
